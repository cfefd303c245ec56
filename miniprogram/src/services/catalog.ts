import type { ApiClient, Schema } from '@govhall/api-client';

export type Theme = Schema<'ThemeOut'>;
export type MatterSummary = Schema<'MatterSummaryOut'>;

export const COMMON_MATTERS = 8;

/** Themes and the first matters for the home page, in one round trip's time. */
export async function loadHome(client: ApiClient): Promise<{ themes: Theme[]; matters: MatterSummary[] }> {
  const [themes, matters] = await Promise.all([
    client.GET('/api/v1/themes', { query: { page_size: 100 } }),
    client.GET('/api/v1/matters', { query: { page_size: COMMON_MATTERS } }),
  ]);
  return { themes: themes.items, matters: matters.items };
}

/** Matters whose name or guide contains the words; blank words search nothing. */
export async function searchMatters(client: ApiClient, words: string): Promise<MatterSummary[]> {
  const q = words.trim();
  if (!q) return [];
  const page = await client.GET('/api/v1/matters', { query: { q, page_size: 20 } });
  return page.items;
}
