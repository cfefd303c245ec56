import { fetchTransport, parseBody } from '@govhall/api-client';
import type { ApiClient } from '@govhall/api-client';
import type { PayChannel, PickedFile, PlatformAdapter, UploadRequest } from './types';
import { RealNameCancelled } from './types';

export const SIM_OPENID_KEY = 'govhall.sim.openid';
export const SIM_ALIPAY_USER_KEY = 'govhall.sim.alipay_user_id';
/** Which platform the simulator plays for this browser: 'wechat' (default) or 'alipay' (the Alipay H5 entry). */
export const SIM_CHANNEL_KEY = 'govhall.sim.channel';

/** Thrown where H5 cannot log in: outside the simulator there is no WeChat or Alipay to vouch for the user. */
export class LoginUnavailable extends Error {
  constructor() {
    super('网页版仅供演示环境使用，请在微信或支付宝小程序中办理');
    this.name = 'LoginUnavailable';
  }
}

/** The simulator's cashier of each channel: the user pays, the simulator notifies our server. */
export const SIM_PAY_PATHS = { wechat: '/sim/wechatpay/pay', alipay: '/sim/alipay/pay' } as const;

type Storage = { get(key: string): string | null; set(key: string, value: string): void };

/** A plain POST to the simulator (its paths are not part of the typed API). */
async function simPost(client: ApiClient, path: string, body: unknown): Promise<unknown> {
  // The simulator's helpers are in the generated document in sim mode, but typed loosely here on purpose.
  const post = client.POST as unknown as (path: string, init: { body: unknown; auth: boolean }) => Promise<unknown>;
  return post(path, { body, auth: false });
}

/** What the simulated consent page asks; the person's answer decides whether a consent code is issued. */
export const SIM_CONSENT_TEXT = '演示环境：模拟微信「实名信息校验」授权页。同意后，微信将核对您填写的姓名、身份证号与微信支付实名信息是否一致。';

/**
 * H5 (a browser): in sim mode the simulator plays WeChat (or Alipay, when the browser was set to), so a code from
 * /sim is exchanged at /api/v1/auth/wechat (/alipay) like the mini-program's. The ids are kept in storage, so the
 * same browser is the same citizen. Paying calls the simulator's cashier; the user picks the channel.
 */
export function h5Adapter(deps: {
  simMode: boolean;
  storage: Storage;
  newOpenid: () => string;
  /** An Alipay user id for the simulator (2088 and 12 digits, as Alipay's are). */
  newAlipayUserId?: () => string;
  fetchImpl?: typeof fetch;
  pickFile?: () => Promise<File | null>;
  /** Asks the person to agree to the simulated consent page (Taro.showModal on the page); true when they did. */
  askConsent?: (text: string) => Promise<boolean>;
}): PlatformAdapter {
  const channel = (): PayChannel => (deps.storage.get(SIM_CHANNEL_KEY) === 'alipay' ? 'alipay' : 'wechat');
  const newAlipayUserId = deps.newAlipayUserId ?? (() => `2088${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`);
  function keptId(key: string): string {
    let id = deps.storage.get(key);
    if (!id) {
      id = key === SIM_ALIPAY_USER_KEY ? newAlipayUserId() : deps.newOpenid();
      deps.storage.set(key, id);
    }
    return id;
  }
  return {
    name: 'h5',
    transport: fetchTransport(deps.fetchImpl),
    async login(client) {
      if (!deps.simMode) throw new LoginUnavailable();
      if (channel() === 'alipay') {
        const userId = keptId(SIM_ALIPAY_USER_KEY);
        const { auth_code } = await client.POST('/sim/alipay/auth_code', { body: { user_id: userId }, auth: false });
        return client.POST('/api/v1/auth/alipay', { body: { auth_code }, auth: false });
      }
      const openid = keptId(SIM_OPENID_KEY);
      const { code } = await client.POST('/sim/wechat/code', { body: { openid }, auth: false });
      return client.POST('/api/v1/auth/wechat', { body: { code }, auth: false });
    },
    // Both cashiers exist in the simulator; the one of the platform the user logged in with comes first.
    payChannels: () => (channel() === 'alipay' ? ['alipay', 'wechat'] : ['wechat', 'alipay']),
    async pay(order, client) {
      if (!deps.simMode) return { kind: 'failed', reason: '网页版不能支付，请在微信或支付宝小程序中缴费' };
      await simPost(client, SIM_PAY_PATHS[order.channel], { order_no: order.order_no });
      return { kind: 'ask_server' };
    },
    get subscribeChannel() {
      return channel();
    },
    async requestSubscribe(templateIds, client) {
      if (!deps.simMode) return {};
      if (channel() === 'alipay') {
        const answer = (await simPost(client, '/sim/alipay/subscribe', {
          user_id: keptId(SIM_ALIPAY_USER_KEY),
          template_ids: templateIds,
        })) as { results: Record<string, string> };
        return answer.results;
      }
      // The simulated WeChat dialog: the user's tap on the page is taken as "允许".
      return Object.fromEntries(templateIds.map((id) => [id, 'accept']));
    },
    async chooseFile(): Promise<PickedFile | null> {
      const file = deps.pickFile ? await deps.pickFile() : null;
      return file ? { path: file.name, name: file.name, size: file.size, type: file.type, blob: file } : null;
    },
    async upload(request: UploadRequest) {
      const form = new FormData();
      for (const [key, value] of Object.entries(request.fields)) form.append(key, value);
      if (!request.file.blob) throw new Error('no file to upload');
      form.append('file', request.file.blob, request.file.name);
      const response = await (deps.fetchImpl ?? fetch)(request.url, { method: 'POST', headers: request.headers, body: form });
      return { status: response.status, body: parseBody(await response.text()) };
    },
    async verifyRealName(client, verification) {
      const openid = deps.storage.get(SIM_OPENID_KEY);
      if (!deps.simMode || !openid) throw new LoginUnavailable();
      if (!verification.wechat) throw new RealNameCancelled('网页版只能用微信实名信息校验，请在支付宝小程序中刷脸认证');
      if (!deps.askConsent || !(await deps.askConsent(SIM_CONSENT_TEXT))) throw new RealNameCancelled();
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
