import type { PlatformAdapter } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';

/** WeChat: wx.login's code, exchanged at POST /api/v1/auth/wechat. */
export function weappAdapter(deps: { login: () => Promise<{ code: string }>; request: TaroRequest }): PlatformAdapter {
  return {
    name: 'weapp',
    transport: taroTransport(deps.request),
    async login(client) {
      const { code } = await deps.login();
      return client.POST('/api/v1/auth/wechat', { body: { code }, auth: false });
    },
  };
}
