import type { ApiClient, Schema, Transport } from '@govhall/api-client';

export type CitizenLogin = Schema<'CitizenLoginOut'>;

/** What differs per TARO_ENV: how requests travel and how a citizen logs in (pay, subscribe, upload come later). */
export interface PlatformAdapter {
  readonly name: 'weapp' | 'alipay' | 'h5';
  readonly transport: Transport;
  /** Gets a fresh login from the platform and exchanges it at our API for a token. */
  login(client: ApiClient): Promise<CitizenLogin>;
}
