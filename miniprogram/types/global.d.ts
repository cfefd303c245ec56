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
};
