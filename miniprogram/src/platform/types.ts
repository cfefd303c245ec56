import type { ApiClient, Schema, Transport } from '@govhall/api-client';

export type CitizenLogin = Schema<'CitizenLoginOut'>;
export type Verification = Schema<'VerificationOut'>;

/** What the platform hands back once the person passed its real-name step: WeChat's consent code, or nothing. */
export interface RealNameProof {
  code?: string;
}

/** The person left the platform's real-name step without finishing it (closed the consent page, the face scan). */
export class RealNameCancelled extends Error {
  constructor(message = '您没有完成平台的实名授权，认证未完成，可以重新发起') {
    super(message);
    this.name = 'RealNameCancelled';
  }
}

/** What differs per TARO_ENV: how requests travel, how a citizen logs in and proves a real name. */
export interface PlatformAdapter {
  readonly name: 'weapp' | 'alipay' | 'h5';
  readonly transport: Transport;
  /** Gets a fresh login from the platform and exchanges it at our API for a token. */
  login(client: ApiClient): Promise<CitizenLogin>;
  /**
   * The platform's own real-name step for a started verification: WeChat's consent mini-program (its code comes
   * back), Alipay's face verification. Throws RealNameCancelled when the person backs out.
   */
  verifyRealName(client: ApiClient, verification: Verification): Promise<RealNameProof>;
  /** Simulator only (H5 demo): the code texted to this phone, so a demo can be finished without a handset. */
  simTextedCode?(client: ApiClient, phone: string): Promise<string | null>;
}
