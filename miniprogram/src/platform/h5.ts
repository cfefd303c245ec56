import { fetchTransport } from '@govhall/api-client';
import type { PlatformAdapter } from './types';

export const SIM_OPENID_KEY = 'govhall.sim.openid';

/** Thrown where H5 cannot log in: outside the simulator there is no WeChat or Alipay to vouch for the user. */
export class LoginUnavailable extends Error {
  constructor() {
    super('网页版仅供演示环境使用，请在微信或支付宝小程序中办理');
    this.name = 'LoginUnavailable';
  }
}

/**
 * H5 (a browser): in sim mode the simulator plays WeChat, so a code from POST /sim/wechat/code is exchanged at
 * /api/v1/auth/wechat like wx.login's. The openid is kept in storage, so the same browser is the same citizen.
 */
export function h5Adapter(deps: {
  simMode: boolean;
  storage: { get(key: string): string | null; set(key: string, value: string): void };
  newOpenid: () => string;
  fetchImpl?: typeof fetch;
}): PlatformAdapter {
  return {
    name: 'h5',
    transport: fetchTransport(deps.fetchImpl),
    async login(client) {
      if (!deps.simMode) throw new LoginUnavailable();
      let openid = deps.storage.get(SIM_OPENID_KEY);
      if (!openid) {
        openid = deps.newOpenid();
        deps.storage.set(SIM_OPENID_KEY, openid);
      }
      const { code } = await client.POST('/sim/wechat/code', { body: { openid }, auth: false });
      return client.POST('/api/v1/auth/wechat', { body: { code }, auth: false });
    },
  };
}
