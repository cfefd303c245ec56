import type { PayOutcome, PickedFile, PlatformAdapter, UploadRequest, Verification } from './types';
import { RealNameCancelled } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';
import { typeOfName } from './files';
import { parseText } from './weapp';

/** my.getAuthCode as a promise: the silent auth_base scope is enough to identify the user (user_id). */
export function getAuthCode(): Promise<string> {
  return new Promise((resolve, reject) =>
    my.getAuthCode({ scopes: 'auth_base', success: (result) => resolve(result.authCode), fail: reject }),
  );
}

/** my.tradePay as a promise of its resultCode. */
export function tradePay(tradeNO: string): Promise<{ resultCode: string }> {
  return new Promise((resolve, reject) => my.tradePay({ tradeNO, success: resolve, fail: reject }));
}

/** my.requestSubscribeMessage as a promise of its answer. */
export function requestSubscribeMessage(entityIds: string[]): Promise<AlipaySubscribeAnswer> {
  return new Promise((resolve, reject) => my.requestSubscribeMessage({ entityIds, success: resolve, fail: reject }));
}

export interface AlipaySubscribeAnswer {
  [entityId: string]: unknown;
  result?: { subscribeEntityIds?: string[]; unsubscribedEntityIds?: string[] };
}

/**
 * my.tradePay's resultCode: 9000 paid; 8000 (processing) and 6004 (result unknown) mean "ask the server", which
 * learns the truth from Alipay; 6001 the user left the cashier; anything else did not pay.
 */
export function alipayOutcome(resultCode: string): PayOutcome {
  if (resultCode === '9000') return { kind: 'paid' };
  if (resultCode === '8000' || resultCode === '6004') return { kind: 'ask_server' };
  if (resultCode === '6001') return { kind: 'cancelled' };
  if (resultCode === '6002') return { kind: 'failed', reason: '网络连接出错，请检查网络后重新支付' };
  return { kind: 'failed', reason: `支付宝支付未完成（${resultCode}），请重新支付` };
}

/** Alipay's subscribe answer in the server's words: each template accepted or rejected. */
export function alipaySubscribeResults(templateIds: string[], answer: AlipaySubscribeAnswer): Record<string, string> {
  const accepted = new Set(answer.result?.subscribeEntityIds ?? []);
  return Object.fromEntries(
    templateIds.map((id) => {
      const own = answer[id];
      if (typeof own === 'string') return [id, own];
      return [id, accepted.has(id) ? 'accept' : 'reject'];
    }),
  );
}

export interface AlipayDeps {
  authCode: () => Promise<string>;
  request: TaroRequest;
  tradePay?: (tradeNO: string) => Promise<{ resultCode: string }>;
  requestSubscribeMessage?: (entityIds: string[]) => Promise<AlipaySubscribeAnswer>;
  chooseImage?: (options: { count: number }) => Promise<{ tempFiles?: { path: string; size: number }[]; tempFilePaths: string[] }>;
  uploadFile?: (options: Record<string, unknown>) => Promise<{ statusCode: number; data: string }>;
  startAPVerify?: (options: { url: string; certifyId: string }) => Promise<string>;
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

function missing(name: string): never {
  throw new Error(`${name} is not available on this platform`);
}

/** Alipay: my.getAuthCode's auth code, exchanged at POST /api/v1/auth/alipay; my.tradePay; subscribe messages;
 * face verification by my.startAPVerify. */
export function alipayAdapter(deps: AlipayDeps): PlatformAdapter {
  return {
    name: 'alipay',
    transport: taroTransport(deps.request),
    async login(client) {
      const authCode = await deps.authCode();
      return client.POST('/api/v1/auth/alipay', { body: { auth_code: authCode }, auth: false });
    },
    payChannels: () => ['alipay'],
    async pay(order) {
      const tradeNo = order.pay_params?.trade_no;
      if (typeof tradeNo !== 'string' || !tradeNo) return { kind: 'failed', reason: '支付参数缺少交易号，请稍后重试' };
      try {
        const { resultCode } = await (deps.tradePay ?? missing('my.tradePay'))(tradeNo);
        return alipayOutcome(String(resultCode));
      } catch {
        return { kind: 'ask_server' };
      }
    },
    subscribeChannel: 'alipay',
    async requestSubscribe(templateIds) {
      const answer = await (deps.requestSubscribeMessage ?? missing('my.requestSubscribeMessage'))(templateIds);
      return alipaySubscribeResults(templateIds, answer);
    },
    async chooseFile(): Promise<PickedFile | null> {
      // Alipay mini-programs pick photos (a scan or a photo of the paper); PDFs are uploaded from WeChat or H5.
      try {
        const picked = await (deps.chooseImage ?? missing('my.chooseImage'))({ count: 1 });
        const path = picked.tempFilePaths[0];
        if (!path) return null;
        const name = path.split('/').pop() ?? 'photo.jpg';
        return { path, name, size: picked.tempFiles?.[0]?.size ?? 0, type: typeOfName(name) || 'image/jpeg' };
      } catch {
        return null;
      }
    },
    async upload(request: UploadRequest) {
      const answer = await (deps.uploadFile ?? missing('my.uploadFile'))({
        url: request.url,
        filePath: request.file.path,
        name: 'file',
        fileName: 'file',
        fileType: 'image',
        formData: request.fields,
        header: request.headers,
      });
      return { status: answer.statusCode, body: parseText(answer.data) };
    },
    async verifyRealName(_client, verification) {
      if (!verification.alipay) throw new RealNameCancelled('请在微信小程序中完成实名授权');
      await faceVerify(deps.startAPVerify ?? startAPVerify, verification.alipay);
      return {};
    },
  };
}
