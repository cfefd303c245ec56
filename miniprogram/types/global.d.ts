/// <reference types="@tarojs/taro" />

declare module '*.png';
declare module '*.css';
declare module '*.scss';

/** The API's address from the build environment (config/index.ts); '' on H5: the same origin. */
declare const API_BASE: string;
/** Whether the platform simulator stands in for WeChat and Alipay (H5 logs in only then). */
declare const SIM_MODE: boolean;

declare namespace NodeJS {
  interface ProcessEnv {
    TARO_ENV: 'weapp' | 'alipay' | 'h5' | string;
  }
}

/** Taro replaces process.env.TARO_ENV at build time, so a branch for another platform is dropped from the bundle. */
declare const process: { env: NodeJS.ProcessEnv };

/** Alipay's global (my.*); present only in the Alipay mini-program. */
declare const my: {
  getAuthCode(options: {
    scopes: string | string[];
    success: (result: { authCode: string }) => void;
    fail: (error: unknown) => void;
  }): void;
  tradePay(options: { tradeNO: string; success: (result: { resultCode: string }) => void; fail: (error: unknown) => void }): void;
  requestSubscribeMessage(options: {
    entityIds: string[];
    success: (result: { [entityId: string]: unknown; result?: { subscribeEntityIds?: string[]; unsubscribedEntityIds?: string[] } }) => void;
    fail: (error: unknown) => void;
  }): void;
  /** Alipay's face verification (实人认证) of a certify_id the server started. */
  startAPVerify(options: {
    url: string;
    certifyId: string;
    success: (result: { resultStatus: string | number }) => void;
    fail: (error: unknown) => void;
  }): void;
};
