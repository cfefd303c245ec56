import type { Schema } from '@govhall/api-client';

export type Guide = Schema<'MatterOut'>;
export type Material = Guide['materials'][number];

/** Fen as the citizen reads it: "¥12.50"; free is "免费". */
export function yuan(fen: number): string {
  if (fen === 0) return '免费';
  return `¥${(fen / 100).toFixed(2)}`;
}

/** A yuan amount typed by staff ("12.5") in integer fen, or null when it is not a money amount (at most 2 decimals). */
export function fenOf(typed: string): number | null {
  const text = typed.trim().replace(/^¥/, '');
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(text)) return null;
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** When a charged matter is paid (app/catalog/models.py PayBefore). */
export const PAY_BEFORE: Record<string, string> = { acceptance: '受理前缴费', delivery: '送达前缴费' };

export interface GuideChange {
  /** What changed, in the words of the guide ("材料", "承诺时限"). */
  field: string;
  before: string;
  after: string;
}

const SCALARS: Array<[keyof Guide, string, (value: never) => string]> = [
  ['name', '事项名称', String],
  ['conditions', '受理条件', String],
  ['legal_basis', '设定依据', String],
  ['process', '办理流程', String],
  ['legal_days', '法定时限', (days: number) => `${days} 个工作日`],
  ['promised_days', '承诺时限', (days: number) => `${days} 个工作日`],
  ['max_visits', '最多跑动次数', (visits: number) => `${visits} 次`],
  ['bookable', '可预约', (bookable: boolean) => (bookable ? '是' : '否')],
  ['contact_phone', '咨询电话', String],
  ['pay_before', '缴费时点', (when: string | null) => PAY_BEFORE[when ?? ''] ?? '不收费'],
];

function materialText(material: Material): string {
  return `${material.name}（${material.required ? '必交' : '非必交'}，${material.copies} 份）`;
}

function feeText(fee: Guide['fees'][number]): string {
  return `${fee.name} ${yuan(fee.amount_fen)}`;
}

/** What the draft changes against the published guide, one line per change, in guide order (empty: nothing). */
export function diffGuide(published: Guide, draft: Guide): GuideChange[] {
  const changes: GuideChange[] = [];
  for (const [key, field, show] of SCALARS) {
    const before = show(published[key] as never);
    const after = show(draft[key] as never);
    if (before !== after) changes.push({ field, before, after });
  }
  const beforeMaterials = published.materials.map(materialText);
  const afterMaterials = draft.materials.map(materialText);
  for (const text of afterMaterials) {
    if (!beforeMaterials.includes(text)) changes.push({ field: '材料', before: '', after: text });
  }
  for (const text of beforeMaterials) {
    if (!afterMaterials.includes(text)) changes.push({ field: '材料', before: text, after: '' });
  }
  const beforeFees = published.fees.map(feeText).join('；') || '免费';
  const afterFees = draft.fees.map(feeText).join('；') || '免费';
  if (beforeFees !== afterFees) changes.push({ field: '收费', before: beforeFees, after: afterFees });
  const beforeHalls = [...published.hall_ids].sort((a, b) => a - b).join(',');
  const afterHalls = [...draft.hall_ids].sort((a, b) => a - b).join(',');
  if (beforeHalls !== afterHalls) changes.push({ field: '办理大厅', before: beforeHalls, after: afterHalls });
  const beforeFields = published.form_fields.map((field) => String(field.label)).join('、');
  const afterFields = draft.form_fields.map((field) => String(field.label)).join('、');
  if (beforeFields !== afterFields) changes.push({ field: '表单字段', before: beforeFields, after: afterFields });
  return changes;
}

/** A new material as the editor adds it: required, the original, one copy; the server gives it its id and code. */
export function newMaterial(name: string, required: boolean, copies: number): Material {
  return { id: 0, code: '', name: name.trim(), required, form: 'original', copies, notes: '', sample_url: null, e_licence: false, licence_type: null };
}

/** The PUT body: the guide as GET answered it (read-only fields are ignored by the server), new materials without code. */
export function guideBody(draft: Guide, changeNote: string) {
  return {
    ...draft,
    materials: draft.materials.map((material) => ({ ...material, code: material.code || null })),
    change_note: changeNote.trim(),
  };
}

/** Plain Chinese for the checks the draft fails before it is sent (the server checks them again). */
export function guideProblems(draft: Guide): string[] {
  const problems: string[] = [];
  if (!draft.name.trim()) problems.push('事项名称不能为空。');
  if (draft.promised_days > draft.legal_days) problems.push('承诺时限不能超过法定时限。');
  if (draft.materials.some((material) => !material.name.trim())) problems.push('每项材料都要有名称。');
  const charged = draft.fees.some((fee) => fee.amount_fen > 0);
  if (charged && !draft.pay_before) problems.push('收费的事项要选择缴费时点（受理前或送达前）。');
  if (!charged && draft.pay_before) problems.push('免费事项不设缴费时点，请把缴费时点改为“不收费”。');
  if (draft.bookable && draft.hall_ids.length === 0) problems.push('可预约的事项至少要选一个办理大厅。');
  return problems;
}
