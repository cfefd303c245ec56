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

export type Guide = Schema<'MatterOut'>;
export type Material = Schema<'MaterialOut'>;

/** Matters of one theme (its code), for the home page's theme filter. */
export async function mattersOfTheme(client: ApiClient, themeCode: string): Promise<MatterSummary[]> {
  const page = await client.GET('/api/v1/matters', { query: { theme: themeCode, page_size: 50 } });
  return page.items;
}

/** The matter's current guide. */
export function loadGuide(client: ApiClient, matterId: number): Promise<Guide> {
  return client.GET('/api/v1/matters/{matter_id}', { path: { matter_id: matterId } });
}

/** Integer fen as the citizen reads money: ¥12.50, ¥8 (whole yuan without decimals). */
export function yuan(fen: number): string {
  const whole = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents === 0 ? `¥${whole}` : `¥${whole}.${String(cents).padStart(2, '0')}`;
}

/** The fee line of a guide: free, or each fee and the total. */
export function feeSummary(guide: Pick<Guide, 'fees'>): string {
  const total = guide.fees.reduce((sum, fee) => sum + fee.amount_fen, 0);
  if (total === 0) return '不收费';
  return guide.fees.length === 1 ? yuan(total) : `共 ${yuan(total)}`;
}

const MATERIAL_FORMS: Record<string, string> = { original: '原件', copy: '复印件', electronic: '电子版' };

/** '原件 1 份' / '复印件 2 份' / '电子版' for a material. */
export function materialForm(material: Pick<Material, 'form' | 'copies'>): string {
  const form = MATERIAL_FORMS[material.form] ?? material.form;
  return material.copies > 0 ? `${form} ${material.copies} 份` : form;
}

const guideMemo = new Map<number, Promise<Guide>>();

/** Matter names for lists that carry only matter ids (appointments), each guide asked once per session. */
export async function matterNames(client: ApiClient, ids: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  const guides = await Promise.all(
    unique.map((id) => {
      let pending = guideMemo.get(id);
      if (!pending) {
        pending = loadGuide(client, id);
        guideMemo.set(id, pending);
        pending.catch(() => guideMemo.delete(id));
      }
      return pending.then((guide) => guide.name).catch(() => '预约事项');
    }),
  );
  return new Map(unique.map((id, index) => [id, guides[index]]));
}
