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
  const beforeFields = formFieldsOf(published).map(formFieldText);
  const afterFields = formFieldsOf(draft).map(formFieldText);
  for (const text of afterFields) {
    if (!beforeFields.includes(text)) changes.push({ field: '申请表字段', before: '', after: text });
  }
  for (const text of beforeFields) {
    if (!afterFields.includes(text)) changes.push({ field: '申请表字段', before: text, after: '' });
  }
  const kept = afterFields.filter((text) => beforeFields.includes(text));
  const keptBefore = beforeFields.filter((text) => afterFields.includes(text));
  if (kept.join('|') !== keptBefore.join('|')) {
    const order = (texts: string[]) => texts.map((text) => text.split('（')[0]).join(' → ');
    changes.push({ field: '申请表字段顺序', before: order(keptBefore), after: order(kept) });
  }
  return changes;
}

// ---- the application form's fields (a guide's form_fields; app/catalog/schemas.py FormFieldIn) ----

export type FieldType = 'text' | 'number' | 'date' | 'select' | 'phone' | 'id_number';

export interface FormField {
  /** The key the case's form is sent under: ^[a-z][a-z0-9_]{0,31}$, unique in the guide. */
  name: string;
  label: string;
  type: FieldType;
  required?: boolean;
  options?: string[];
  max_length?: number;
  /** Filled in from the applicant's verified identity on a new draft. */
  prefill?: 'name' | 'id_number' | 'phone';
}

export const FIELD_TYPES: Record<FieldType, string> = {
  text: '文字',
  number: '数字',
  date: '日期',
  select: '单选',
  phone: '手机号码',
  id_number: '身份证号码',
};

/** What a pre-filled field must be (the server refuses anything else). */
export const PREFILL_TYPES: Record<NonNullable<FormField['prefill']>, FieldType> = { name: 'text', id_number: 'id_number', phone: 'phone' };
export const PREFILL_NAMES: Record<NonNullable<FormField['prefill']>, string> = { name: '申请人姓名', id_number: '申请人身份证号', phone: '申请人手机号' };

/** The guide's form fields, typed (the answer's schema says only "objects"). */
export function formFieldsOf(guide: Guide): FormField[] {
  return guide.form_fields as unknown as FormField[];
}

/** A field as the diff and the editor read it: "失业原因（文字，必填）", a select with its options. */
export function formFieldText(field: FormField): string {
  const parts = [FIELD_TYPES[field.type] ?? field.type, field.required ? '必填' : '选填'];
  if (field.type === 'select' && field.options?.length) parts.push(`选项：${field.options.join('/')}`);
  if (field.prefill) parts.push(`自动填入${PREFILL_NAMES[field.prefill]}`);
  return `${field.label}（${parts.join('，')}）`;
}

/** Options typed one per line or separated by commas (、，,), trimmed, without blanks or repeats. */
export function optionsOf(typed: string): string[] {
  return [...new Set(typed.split(/[\n,，、;；]/).map((option) => option.trim()).filter(Boolean))];
}

/** A new field's key: field_1, field_2 ... the first not yet in the guide (the citizen never sees it). */
export function newFieldName(fields: readonly FormField[]): string {
  const taken = new Set(fields.map((field) => field.name));
  let n = fields.length + 1;
  while (taken.has(`field_${n}`)) n += 1;
  return `field_${n}`;
}

/** The field as sent: options only on a select, no empty extras. */
export function cleanField(field: FormField): FormField {
  const clean: FormField = { name: field.name, label: field.label.trim(), type: field.type, required: Boolean(field.required) };
  if (field.type === 'select') clean.options = field.options ?? [];
  if (field.max_length) clean.max_length = field.max_length;
  if (field.prefill && PREFILL_TYPES[field.prefill] === field.type) clean.prefill = field.prefill;
  return clean;
}

/** The fields with the one at `index` moved up (-1) or down (+1); unchanged at either end. */
export function moveField<T>(fields: readonly T[], index: number, by: -1 | 1): T[] {
  const target = index + by;
  if (target < 0 || target >= fields.length) return [...fields];
  const moved = [...fields];
  [moved[index], moved[target]] = [moved[target], moved[index]];
  return moved;
}

/** Plain Chinese for what is wrong with the form fields (the server checks them again). */
export function formFieldProblems(fields: readonly FormField[]): string[] {
  const problems: string[] = [];
  if (fields.some((field) => !field.label.trim())) problems.push('每个申请表字段都要有名称。');
  if (fields.some((field) => field.label.trim().length > 32)) problems.push('申请表字段名称最多 32 个字。');
  const labels = fields.map((field) => field.label.trim());
  if (new Set(labels).size !== labels.length) problems.push('申请表字段名称不能重复。');
  for (const field of fields) {
    if (field.type === 'select' && !(field.options ?? []).length) problems.push(`单选字段「${field.label}」至少要有一个选项。`);
  }
  if (fields.length > 30) problems.push('申请表最多 30 个字段。');
  return problems;
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
    form_fields: formFieldsOf(draft).map(cleanField),
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
  problems.push(...formFieldProblems(formFieldsOf(draft)));
  return problems;
}
