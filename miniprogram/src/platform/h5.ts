import { fetchTransport } from '@govhall/api-client';
import type { PlatformAdapter } from './types';
import { RealNameCancelled } from './types';

export const SIM_OPENID_KEY = 'govhall.sim.openid';

/** Thrown where H5 cannot log in: outside the simulator there is no WeChat or Alipay to vouch for the user. */
export class LoginUnavailable extends Error {
  constructor() {
    super('网页版仅供演示环境使用，请在微信或支付宝小程序中办理');
    this.name = 'LoginUnavailable';
  }
}

/** What the simulated consent page asks; the person's answer decides whether a consent code is issued. */
export const SIM_CONSENT_TEXT = '演示环境：模拟微信「实名信息校验」授权页。同意后，微信将核对您填写的姓名、身份证号与微信支付实名信息是否一致。';

/**
 * H5 (a browser): in sim mode the simulator plays WeChat, so a code from POST /sim/wechat/code is exchanged at
 * /api/v1/auth/wechat like wx.login's. The openid is kept in storage, so the same browser is the same citizen.
 * The real-name consent page is the simulator's too: the person agrees in a dialog (as on WeChat's page), then
 * POST /sim/wechat/real-name/consent gives the code WeChat would return in extraData.
 */
export function h5Adapter(deps: {
  simMode: boolean;
  storage: { get(key: string): string | null; set(key: string, value: string): void };
  newOpenid: () => string;
  /** Asks the person to agree (Taro.showModal on the page); true when they did. */
  askConsent: (text: string) => Promise<boolean>;
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
    async verifyRealName(client, verification) {
      const openid = deps.storage.get(SIM_OPENID_KEY);
      if (!deps.simMode || !openid) throw new LoginUnavailable();
      if (!verification.wechat) throw new RealNameCancelled('网页版只能用微信实名信息校验，请在支付宝小程序中刷脸认证');
      if (!(await deps.askConsent(SIM_CONSENT_TEXT))) throw new RealNameCancelled();
      const { code } = await client.POST('/sim/wechat/real-name/consent', { body: { openid }, auth: false });
      return { code };
    },
    async simTextedCode(client, phone) {
      if (!deps.simMode) return null;
      const { items } = (await client.GET('/sim/sms/messages', { query: { phone }, auth: false })) as { items: { text?: string }[] };
      const last = items[items.length - 1]?.text ?? '';
      return /[0-9]{6}/.exec(last)?.[0] ?? null;
    },
  };
}
