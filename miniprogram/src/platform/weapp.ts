import type { PayOutcome, PickedFile, PlatformAdapter, UploadRequest, Verification } from './types';
import { RealNameCancelled } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';
import { typeOfName } from './files';

/** The five fields wx.requestPayment takes, exactly as POST /cases/{id}/payments hands them over. */
export const WECHAT_PAY_FIELDS = ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const;

export interface WeappDeps {
  login: () => Promise<{ code: string }>;
  request: TaroRequest;
  requestPayment?: (params: Record<string, string>) => Promise<unknown>;
  requestSubscribeMessage?: (options: { tmplIds: string[] }) => Promise<Record<string, string>>;
  chooseMessageFile?: (options: { count: number; type: 'file'; extension: string[] }) => Promise<{ tempFiles: { path: string; name: string; size: number }[] }>;
  uploadFile?: (options: { url: string; filePath: string; name: string; formData: Record<string, string>; header: Record<string, string> }) => Promise<{ statusCode: number; data: string }>;
  navigateToMiniProgram?: (options: { appId: string; path: string }) => Promise<unknown>;
  onAppShow?: (listener: (info: AppShowInfo) => void) => void;
  offAppShow?: (listener: (info: AppShowInfo) => void) => void;
}

/** What wx.onAppShow reports when the person comes back from another mini-program. */
export interface AppShowInfo {
  referrerInfo?: { appId?: string; extraData?: { code?: string } | null };
}

type ConsentDeps = Required<Pick<WeappDeps, 'navigateToMiniProgram' | 'onAppShow' | 'offAppShow'>>;

/**
 * WeChat's 城市服务实名信息校验: the consent mini-program is opened; when the person agrees, WeChat returns to us
 * with extraData.code (read in wx.onAppShow's referrerInfo); coming back without one means they did not agree.
 */
export function wechatConsent(deps: ConsentDeps, target: NonNullable<Verification['wechat']>): Promise<string> {
  return new Promise((resolve, reject) => {
    const listener = (info: AppShowInfo) => {
      deps.offAppShow(listener);
      const code = info.referrerInfo?.appId === target.appid ? info.referrerInfo?.extraData?.code : undefined;
      if (code) resolve(code);
      else reject(new RealNameCancelled());
    };
    deps.onAppShow(listener);
    deps.navigateToMiniProgram({ appId: target.appid, path: target.path }).catch(() => {
      deps.offAppShow(listener);
      reject(new RealNameCancelled('未能打开微信实名授权页，请稍后重试'));
    });
  });
}

function errMsg(error: unknown): string {
  return typeof error === 'object' && error !== null && 'errMsg' in error ? String((error as { errMsg: unknown }).errMsg) : String(error);
}

function missing(name: string): never {
  throw new Error(`${name} is not available on this platform`);
}

/** wx.requestPayment's answer: success says paid (the server confirms), "fail cancel" is the user closing it. */
export async function wechatPay(requestPayment: NonNullable<WeappDeps['requestPayment']>, payParams: Record<string, unknown> | null): Promise<PayOutcome> {
  const params: Record<string, string> = {};
  for (const field of WECHAT_PAY_FIELDS) {
    const value = payParams?.[field];
    if (typeof value !== 'string' || !value) return { kind: 'failed', reason: `支付参数缺少 ${field}，请稍后重试` };
    params[field] = value;
  }
  try {
    await requestPayment(params);
    return { kind: 'paid' };
  } catch (error) {
    const message = errMsg(error);
    if (/cancel/i.test(message)) return { kind: 'cancelled' };
    return { kind: 'failed', reason: '微信支付未完成，请稍后重试' };
  }
}

/** WeChat: wx.login's code, exchanged at POST /api/v1/auth/wechat; wx.requestPayment; subscribe messages; the
 * real-name consent mini-program. */
export function weappAdapter(deps: WeappDeps): PlatformAdapter {
  return {
    name: 'weapp',
    transport: taroTransport(deps.request),
    async login(client) {
      const { code } = await deps.login();
      return client.POST('/api/v1/auth/wechat', { body: { code }, auth: false });
    },
    payChannels: () => ['wechat'],
    pay: (order) => wechatPay(deps.requestPayment ?? missing('wx.requestPayment'), order.pay_params),
    subscribeChannel: 'wechat',
    async requestSubscribe(templateIds) {
      const answer = await (deps.requestSubscribeMessage ?? missing('wx.requestSubscribeMessage'))({ tmplIds: templateIds });
      // The answer also carries errMsg: only the template ids' own results go to the server.
      return Object.fromEntries(templateIds.filter((id) => typeof answer[id] === 'string').map((id) => [id, answer[id]]));
    },
    async chooseFile(): Promise<PickedFile | null> {
      try {
        const { tempFiles } = await (deps.chooseMessageFile ?? missing('wx.chooseMessageFile'))({ count: 1, type: 'file', extension: ['pdf', 'jpg', 'jpeg', 'png'] });
        const [file] = tempFiles;
        return file ? { path: file.path, name: file.name, size: file.size, type: typeOfName(file.name) } : null;
      } catch (error) {
        if (/cancel/i.test(errMsg(error))) return null;
        throw error;
      }
    },
    async upload(request: UploadRequest) {
      const answer = await (deps.uploadFile ?? missing('wx.uploadFile'))({
        url: request.url,
        filePath: request.file.path,
        name: 'file',
        formData: request.fields,
        header: request.headers,
      });
      return { status: answer.statusCode, body: parseText(answer.data) };
    },
    async verifyRealName(_client, verification) {
      if (!verification.wechat) throw new RealNameCancelled('请在支付宝小程序中完成刷脸认证');
      const consent: ConsentDeps = {
        navigateToMiniProgram: deps.navigateToMiniProgram ?? missing('wx.navigateToMiniProgram'),
        onAppShow: deps.onAppShow ?? missing('wx.onAppShow'),
        offAppShow: deps.offAppShow ?? missing('wx.offAppShow'),
      };
      return { code: await wechatConsent(consent, verification.wechat) };
    },
  };
}

/** An upload's answer is text on mini-programs: JSON when it parses, else the text itself. */
export function parseText(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
