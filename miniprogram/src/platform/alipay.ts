import type { PlatformAdapter, Verification } from './types';
import { RealNameCancelled } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';

/** my.getAuthCode as a promise: the silent auth_base scope is enough to identify the user (user_id). */
export function getAuthCode(): Promise<string> {
  return new Promise((resolve, reject) =>
    my.getAuthCode({ scopes: 'auth_base', success: (result) => resolve(result.authCode), fail: reject }),
  );
}

/** my.startAPVerify as a promise of its resultStatus ('9000' done, '6001' cancelled, '4000' failed). */
export function startAPVerify(options: { url: string; certifyId: string }): Promise<string> {
  return new Promise((resolve, reject) =>
    my.startAPVerify({ ...options, success: (result) => resolve(String(result.resultStatus)), fail: reject }),
  );
}

/**
 * Alipay's face verification of a started verification. '9000' means the scan finished (passed or not: the server
 * asks Alipay which, at confirm); cancelling or failing to open it is RealNameCancelled.
 */
export async function faceVerify(start: (options: { url: string; certifyId: string }) => Promise<string>, target: NonNullable<Verification['alipay']>): Promise<void> {
  if (!target.certify_url || !target.certify_id) throw new RealNameCancelled('支付宝未能发起刷脸认证，请稍后重试');
  let status: string;
  try {
    status = await start({ url: target.certify_url, certifyId: target.certify_id });
  } catch {
    throw new RealNameCancelled('未能打开支付宝刷脸认证，请稍后重试');
  }
  if (status === '6001') throw new RealNameCancelled('您取消了刷脸认证，认证未完成，可以重新发起');
  // '4000' and others: the scan ended; Alipay's query (at confirm) says whether it passed and why not.
}

/** Alipay: my.getAuthCode's auth code, exchanged at POST /api/v1/auth/alipay; face verification by my.startAPVerify. */
export function alipayAdapter(deps: {
  authCode: () => Promise<string>;
  request: TaroRequest;
  startAPVerify?: (options: { url: string; certifyId: string }) => Promise<string>;
}): PlatformAdapter {
  return {
    name: 'alipay',
    transport: taroTransport(deps.request),
    async login(client) {
      const authCode = await deps.authCode();
      return client.POST('/api/v1/auth/alipay', { body: { auth_code: authCode }, auth: false });
    },
    async verifyRealName(_client, verification) {
      if (!verification.alipay) throw new RealNameCancelled('请在微信小程序中完成实名授权');
      await faceVerify(deps.startAPVerify ?? startAPVerify, verification.alipay);
      return {};
    },
  };
}
