import type { ApiClient, Schema, Transport } from '@govhall/api-client';

export type CitizenLogin = Schema<'CitizenLoginOut'>;
export type PaymentOrder = Schema<'PaymentOut'>;
export type PayChannel = 'wechat' | 'alipay';

/**
 * What the platform's cashier said. Only the server knows whether money moved: 'paid' and 'ask_server' both end in
 * polling GET /payments/{order_no}; 'cancelled' is the user closing the cashier; 'failed' carries the reason.
 */
export type PayOutcome = { kind: 'paid' } | { kind: 'ask_server' } | { kind: 'cancelled' } | { kind: 'failed'; reason: string };

/** A file the user picked: a temp path on mini-programs, the File itself on H5. */
export interface PickedFile {
  path: string;
  name: string;
  size: number;
  /** The MIME type when the platform tells it ('' when it does not: the name's extension decides). */
  type: string;
  blob?: Blob;
}

/** One multipart upload: the file under `file`, the fields beside it. */
export interface UploadRequest {
  url: string;
  file: PickedFile;
  fields: Record<string, string>;
  headers: Record<string, string>;
}

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

/** What differs per TARO_ENV: requests, login, real-name proof, paying, subscribe messages, choosing and uploading files. */
export interface PlatformAdapter {
  readonly name: 'weapp' | 'alipay' | 'h5';
  readonly transport: Transport;
  /** Gets a fresh login from the platform and exchanges it at our API for a token. */
  login(client: ApiClient): Promise<CitizenLogin>;
  /** The pay channels offered here: a mini-program pays with its own; H5 (sim) lets the user choose. */
  payChannels(): PayChannel[];
  /** Opens the platform's cashier for an order POST /cases/{id}/payments answered. */
  pay(order: PaymentOrder, client: ApiClient): Promise<PayOutcome>;
  /** Which channel's subscribe messages this platform asks for (POST /me/subscriptions `channel`). */
  readonly subscribeChannel: PayChannel;
  /** Asks the user (within their tap) to subscribe to these templates: {template_id: accept|reject|ban|filter}. */
  requestSubscribe(templateIds: string[], client: ApiClient): Promise<Record<string, string>>;
  /** Lets the user pick one file (PDF or image); null when they cancelled. */
  chooseFile(): Promise<PickedFile | null>;
  /** Sends one multipart upload; the answer's status and parsed JSON body. */
  upload(request: UploadRequest): Promise<{ status: number; body: unknown }>;
  /**
   * The platform's own real-name step for a started verification: WeChat's consent mini-program (its code comes
   * back), Alipay's face verification. Throws RealNameCancelled when the person backs out.
   */
  verifyRealName(client: ApiClient, verification: Verification): Promise<RealNameProof>;
  /** Simulator only (H5 demo): the code texted to this phone, so a demo can be finished without a handset. */
  simTextedCode?(client: ApiClient, phone: string): Promise<string | null>;
}
