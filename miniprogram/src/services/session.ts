import type { ApiClient, Schema } from '@govhall/api-client';
import type { PlatformAdapter } from '../platform/types';

export type Citizen = Schema<'CitizenOut'>;

/** The citizen of the stored token, logging in through the platform first when there is none. */
export async function ensureLogin(client: ApiClient, platform: PlatformAdapter): Promise<Citizen> {
  if (!client.tokens.get()) {
    const login = await platform.login(client);
    client.tokens.set(login.token);
    return login.citizen;
  }
  // An expired token: the client logs in again through the platform and asks once more.
  return client.GET('/api/v1/me');
}

/** How the home page greets the citizen. */
export function greeting(citizen: Citizen): string {
  if (citizen.real_name_verified && citizen.name) return `${citizen.name}，您好`;
  return '您好，请先完成实名认证';
}

/** Ends the session at the server (the token stops working at once) and forgets it here, whatever the answer. */
export async function logout(client: ApiClient): Promise<void> {
  if (!client.tokens.get()) return;
  try {
    await client.POST('/api/v1/auth/logout', { auth: true });
  } finally {
    client.tokens.set(null);
  }
}

/** Which platforms the citizen has logged in with, in words. */
export function channelsText(citizen: Citizen): string {
  const names: Record<string, string> = { wechat: '微信', alipay: '支付宝' };
  const known = citizen.channels.map((channel) => names[channel] ?? channel);
  return known.length ? `已登录（${known.join('、')}）` : '已登录';
}
