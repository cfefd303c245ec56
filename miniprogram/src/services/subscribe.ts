import type { ApiClient } from '@govhall/api-client';
import type { PlatformAdapter } from '../platform/types';

/** What a citizen is asked to subscribe to around a case: before submitting, and again after paying. */
export const ON_SUBMIT = ['case_progress', 'supplement_required', 'payment'] as const;
export const AFTER_PAYING = ['case_progress', 'payment'] as const;

/** How many templates one subscribe dialog may hold (WeChat's and Alipay's limit). */
export const MAX_TEMPLATES = 3;

/**
 * The template ids of these purposes on the platform's channel, fetched when the page opens: the platform's
 * subscribe dialog must open inside the user's tap, with no network round trip before it.
 */
export async function templateIdsFor(client: ApiClient, platform: PlatformAdapter, purposes: readonly string[]): Promise<string[]> {
  try {
    const catalogue = await client.GET('/api/v1/subscriptions/templates', { query: { channel: platform.subscribeChannel }, auth: false });
    const ids = purposes.map((purpose) => catalogue[purpose]?.template_id).filter((id): id is string => Boolean(id));
    return [...new Set(ids)].slice(0, MAX_TEMPLATES);
  } catch {
    return [];
  }
}

/**
 * Asks the platform (call it first thing in the tap handler) to subscribe to the templates, and tells the server what
 * the user answered; the number accepted. Never throws: a refused or failed subscription only means no push (the
 * inbox message is written either way).
 */
export async function subscribe(client: ApiClient, platform: PlatformAdapter, templateIds: string[]): Promise<number> {
  if (!templateIds.length) return 0;
  try {
    const results = await platform.requestSubscribe(templateIds, client);
    const answered = Object.fromEntries(Object.entries(results).filter(([id]) => templateIds.includes(id)));
    if (!Object.keys(answered).length) return 0;
    await client.POST('/api/v1/me/subscriptions', {
      body: { channel: platform.subscribeChannel, results: answered as Record<string, 'accept' | 'reject' | 'ban' | 'filter'> },
    });
    return Object.values(answered).filter((result) => result === 'accept').length;
  } catch {
    return 0;
  }
}
