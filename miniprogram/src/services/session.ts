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
