import type { PlatformAdapter, Verification } from './types';
import { RealNameCancelled } from './types';
import type { TaroRequest } from './taroTransport';
import { taroTransport } from './taroTransport';

/** What wx.onAppShow reports when the person comes back from another mini-program. */
export interface AppShowInfo {
  referrerInfo?: { appId?: string; extraData?: { code?: string } | null };
}

export interface WeappDeps {
  login: () => Promise<{ code: string }>;
  request: TaroRequest;
  navigateToMiniProgram: (options: { appId: string; path: string }) => Promise<unknown>;
  onAppShow: (listener: (info: AppShowInfo) => void) => void;
  offAppShow: (listener: (info: AppShowInfo) => void) => void;
}

/**
 * WeChat's 城市服务实名信息校验: the consent mini-program is opened; when the person agrees, WeChat returns to us
 * with extraData.code (read in wx.onAppShow's referrerInfo); coming back without one means they did not agree.
 */
export function wechatConsent(deps: Pick<WeappDeps, 'navigateToMiniProgram' | 'onAppShow' | 'offAppShow'>, target: NonNullable<Verification['wechat']>): Promise<string> {
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

/** WeChat: wx.login's code, exchanged at POST /api/v1/auth/wechat. */
export function weappAdapter(deps: WeappDeps): PlatformAdapter {
  return {
    name: 'weapp',
    transport: taroTransport(deps.request),
    async login(client) {
      const { code } = await deps.login();
      return client.POST('/api/v1/auth/wechat', { body: { code }, auth: false });
    },
    async verifyRealName(_client, verification) {
      if (!verification.wechat) throw new RealNameCancelled('请在支付宝小程序中完成刷脸认证');
      return { code: await wechatConsent(deps, verification.wechat) };
    },
  };
}
