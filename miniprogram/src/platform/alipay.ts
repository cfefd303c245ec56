import type { PlatformAdapter } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';

/** my.getAuthCode as a promise: the silent auth_base scope is enough to identify the user (user_id). */
export function getAuthCode(): Promise<string> {
  return new Promise((resolve, reject) =>
    my.getAuthCode({ scopes: 'auth_base', success: (result) => resolve(result.authCode), fail: reject }),
  );
}

/** Alipay: my.getAuthCode's auth code, exchanged at POST /api/v1/auth/alipay. */
export function alipayAdapter(deps: { authCode: () => Promise<string>; request: TaroRequest }): PlatformAdapter {
  return {
    name: 'alipay',
    transport: taroTransport(deps.request),
    async login(client) {
      const authCode = await deps.authCode();
      return client.POST('/api/v1/auth/alipay', { body: { auth_code: authCode }, auth: false });
    },
  };
}
