import { ApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';
import { describeFailure } from './errors';

export type ProxyGrant = Schema<'ProxyGrantOut'>;

/** Grants I gave and grants I hold, newest first, with each matter's name (one guide read per distinct matter). */
export async function loadProxies(client: ApiClient): Promise<{ given: ProxyGrant[]; received: ProxyGrant[]; matterNames: Record<number, string> }> {
  const [given, received] = await Promise.all([
    client.GET('/api/v1/me/proxies', { query: { page_size: 100 } }),
    client.GET('/api/v1/me/proxies', { query: { received: true, page_size: 100 } }),
  ]);
  const matterNames = await namesOf(client, [...given.items, ...received.items].map((grant) => grant.matter_id));
  return { given: given.items, received: received.items, matterNames };
}

async function namesOf(client: ApiClient, matterIds: number[]): Promise<Record<number, string>> {
  const unique = [...new Set(matterIds)];
  const guides = await Promise.all(
    unique.map((id) => client.GET('/api/v1/matters/{matter_id}', { path: { matter_id: id } }).catch(() => null)),
  );
  const names: Record<number, string> = {};
  unique.forEach((id, index) => {
    names[id] = guides[index]?.name ?? `事项 ${id}`;
  });
  return names;
}

export interface GrantForm {
  matterId: number | null;
  name: string;
  idNumber: string;
}

/** The form's slips before sending: which matter, whose name, an 18-character ID number. */
export function checkGrantForm(form: GrantForm): string | null {
  if (!form.matterId) return '请先选择授权代办的事项';
  if (form.name.trim().length < 2) return '请填写代办人的姓名';
  if (!/^[0-9]{17}[0-9Xx]$/.test(form.idNumber.trim())) return '代办人身份证号码应为 18 位';
  return null;
}

/** POST /api/v1/me/proxies: the person must already be real-named here (found by name + ID number). */
export async function grantProxy(client: ApiClient, form: GrantForm): Promise<ProxyGrant> {
  const problem = checkGrantForm(form);
  if (problem) throw new GrantInputError(problem);
  return client.POST('/api/v1/me/proxies', {
    body: { matter_id: form.matterId as number, name: form.name.trim(), id_number: form.idNumber.trim().toUpperCase() },
  });
}

/** Ends a grant (the grantor, or the proxy stepping down). */
export function revokeProxy(client: ApiClient, grantId: number): Promise<ProxyGrant> {
  return client.POST('/api/v1/me/proxies/{grant_id}/revoke', { path: { grant_id: grantId } });
}

export class GrantInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GrantInputError';
  }
}

/** Each refusal of a grant in plain Chinese with what to do next. */
export function explainGrantFailure(error: unknown): { text: string; retry: boolean } {
  if (error instanceof GrantInputError) return { text: error.message, retry: false };
  if (!(error instanceof ApiError)) return describeFailure(error);
  switch (error.code) {
    case 'REAL_NAME_REQUIRED':
      return { text: '授权代办前请先完成您本人的实名认证（我的 → 实名认证）', retry: false };
    case 'PROXY_NOT_FOUND':
      return { text: `${error.message}。请对方先登录本平台完成实名，再核对姓名和身份证号`, retry: false };
    case 'CANNOT_PROXY_SELF':
      return { text: '不能授权自己代办：本人办理无需授权', retry: false };
    case 'INVALID_ID_NUMBER':
      return { text: `${error.message}，请核对代办人的身份证号码`, retry: false };
    case 'RATE_LIMITED':
      return { text: '今天查找代办人的次数已用完，请明天再试', retry: false };
    case 'PROXY_GRANT_NOT_FOUND':
      return { text: '该授权已不存在，列表已刷新', retry: false };
    default:
      return describeFailure(error);
  }
}

/** How a grant reads in the list: who, and whether it still holds. */
export function describeGrant(grant: ProxyGrant, side: 'given' | 'received'): { who: string; state: string } {
  const party = side === 'given' ? grant.proxy : grant.principal;
  const who = `${party.name ?? '—'}（${party.id_number_masked ?? '—'}）`;
  return { who, state: grant.active ? '有效' : '已撤销' };
}
