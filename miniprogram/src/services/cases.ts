import { ApiError, toApiError } from '@govhall/api-client';
import type { ApiClient, Response, Schema } from '@govhall/api-client';
import { ACCEPTED_TYPES, typeOfName } from '../platform/files';
import type { PickedFile, PlatformAdapter } from '../platform/types';

export type Case = Schema<'CaseOut'>;
export type CaseSummary = Schema<'CaseSummaryOut'>;
export type CaseMaterial = Schema<'CaseMaterialOut'>;
export type Licence = Response<'/api/v1/me/licences', 'get'>[number];
export type ProxyGrant = Schema<'ProxyGrantOut'>;
export type Matter = Schema<'MatterOut'>;

/** The backend's upload limit (config.toml storage.max_upload_bytes, 10 MiB): larger files are refused with 413. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

export const STATUS_TEXT: Record<Case['status'], string> = {
  draft: '草稿',
  submitted: '已提交',
  supplement_required: '待补正',
  accepted: '已受理',
  in_review: '审查中',
  suspended: '已中止',
  approved: '已办结（准予）',
  denied: '已办结（不予许可）',
  rejected: '不予受理',
  delivered: '已送达',
  withdrawn: '已撤回',
};

export const LIGHT_TEXT: Record<'green' | 'yellow' | 'red', string> = {
  green: '绿灯：时限充足',
  yellow: '黄灯：临近期限',
  red: '红灯：已超期',
};

/** One field of the guide version's application form (docs/API.md, form_fields[]). */
export interface FormField {
  name: string;
  label: string;
  type: 'text' | 'number' | 'date' | 'select' | 'phone' | 'id_number';
  required: boolean;
  max_length?: number | null;
  options?: string[];
  prefill?: string | null;
}

export function formFieldsOf(source: { form_fields: Record<string, unknown>[] }): FormField[] {
  return source.form_fields.map((raw) => ({
    name: String(raw.name),
    label: String(raw.label ?? raw.name),
    type: (raw.type as FormField['type']) ?? 'text',
    required: Boolean(raw.required),
    max_length: typeof raw.max_length === 'number' ? raw.max_length : null,
    options: Array.isArray(raw.options) ? raw.options.map(String) : undefined,
    prefill: typeof raw.prefill === 'string' ? raw.prefill : null,
  }));
}

/** The form's values as text fields show them: the case's stored values (ID and phone numbers masked, as sent). */
export function formValues(fields: FormField[], form: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [field.name, form[field.name] === undefined || form[field.name] === null ? '' : String(form[field.name])]));
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643: 17 digits and the check digit (0-9 or X). */
export function isIdNumber(value: string): boolean {
  const text = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(text)) return false;
  const sum = ID_WEIGHTS.reduce((total, weight, index) => total + weight * Number(text[index]), 0);
  return ID_CHECK[sum % 11] === text[17];
}

/** A masked value as the server showed it (110***********1234): sent back unchanged, it keeps the stored number. */
export function isMasked(value: string): boolean {
  return value.includes('*');
}

/** What is wrong with the form, by field name, in words the applicant can act on; {} when nothing. */
export function checkForm(fields: FormField[], values: Record<string, string>): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const value = (values[field.name] ?? '').trim();
    if (!value) {
      if (field.required) problems[field.name] = `请填写${field.label}`;
      continue;
    }
    if (field.max_length && value.length > field.max_length) problems[field.name] = `${field.label}最多 ${field.max_length} 个字`;
    else if (field.type === 'id_number' && !isMasked(value) && !isIdNumber(value)) problems[field.name] = '身份证号码有误，请核对 18 位号码（末位可为 X）';
    else if (field.type === 'phone' && !isMasked(value) && !/^1\d{10}$/.test(value)) problems[field.name] = '请填写 11 位手机号码';
    else if (field.type === 'number' && Number.isNaN(Number(value))) problems[field.name] = `${field.label}须为数字`;
    else if (field.type === 'select' && field.options?.length && !field.options.includes(value)) problems[field.name] = `请选择${field.label}`;
  }
  return problems;
}

/** The form as the API takes it: numbers as numbers, blanks left out. */
export function formBody(fields: FormField[], values: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (values[field.name] ?? '').trim();
    if (!value) continue;
    body[field.name] = field.type === 'number' ? Number(value) : value;
  }
  return body;
}

/** Why this file cannot be sent (type or size), checked before any byte leaves the phone; null when it can. */
export function checkFile(file: PickedFile, maxBytes = MAX_UPLOAD_BYTES): string | null {
  const type = file.type || typeOfName(file.name);
  if (!Object.values(ACCEPTED_TYPES).includes(type)) return `「${file.name}」不是 PDF、JPG 或 PNG 文件，请换一个文件`;
  if (file.size > maxBytes) {
    const mb = (maxBytes / 1024 / 1024).toFixed(0);
    return `「${file.name}」有 ${(file.size / 1024 / 1024).toFixed(1)} MB，超过 ${mb} MB 的上限，请压缩或拍得小一些`;
  }
  if (file.size === 0 && file.blob) return `「${file.name}」是空文件，请重新选择`;
  return null;
}

/** A draft of the matter; `onBehalfOf` files it for the citizen who granted the caller this matter (代办). */
export function createDraft(client: ApiClient, matterId: number, onBehalfOf?: number | null): Promise<Case> {
  return client.POST('/api/v1/cases', { body: { matter_id: matterId, form: {}, ...(onBehalfOf ? { on_behalf_of: onBehalfOf } : {}) } });
}

export function loadMatter(client: ApiClient, matterId: number): Promise<Matter> {
  return client.GET('/api/v1/matters/{matter_id}', { path: { matter_id: matterId }, auth: false });
}

/** The grants I hold for this matter, active ones only: whom I may file for. */
export async function proxiesFor(client: ApiClient, matterId: number): Promise<ProxyGrant[]> {
  const page = await client.GET('/api/v1/me/proxies', { query: { received: true, page_size: 100 } });
  return page.items.filter((grant) => grant.active && grant.matter_id === matterId);
}

/** My electronic licences; [] when the licence service cannot be asked (the applicant uploads instead). */
export async function myLicences(client: ApiClient): Promise<Licence[]> {
  try {
    return await client.GET('/api/v1/me/licences');
  } catch {
    return [];
  }
}

export function saveForm(client: ApiClient, item: Case, form: Record<string, unknown>): Promise<Case> {
  return client.PUT('/api/v1/cases/{case_id}/form', { path: { case_id: item.id }, body: { form, version: item.version } });
}

/** Sends one file for one material after checking it; the backend's refusal becomes an ApiError as any other. */
export async function uploadMaterial(client: ApiClient, platform: PlatformAdapter, caseId: number, materialId: number, file: PickedFile, baseUrl = '') {
  const problem = checkFile(file);
  if (problem) throw new ApiError(422, 'FILE_REFUSED', problem);
  const token = client.tokens.get();
  const answer = await platform.upload({
    url: `${baseUrl}/api/v1/cases/${caseId}/materials`,
    file,
    fields: { material_id: String(materialId) },
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (answer.status >= 400) throw toApiError(answer.status, answer.body);
  return answer.body as Schema<'MaterialFileOut'>;
}

export function attachLicence(client: ApiClient, caseId: number, materialId: number) {
  return client.POST('/api/v1/cases/{case_id}/licences', { path: { case_id: caseId }, body: { material_id: materialId } });
}

/** Submit: the case, or the materials still missing, by name, when the server answers MATERIALS_MISSING. */
export async function submitCase(client: ApiClient, item: Case): Promise<{ case: Case } | { missing: { id: number; name: string }[] }> {
  try {
    return { case: await client.POST('/api/v1/cases/{case_id}/submit', { path: { case_id: item.id }, body: { version: item.version } }) };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'MATERIALS_MISSING') return { missing: missingOf(error, item) };
    throw error;
  }
}

/** The missing materials of a MATERIALS_MISSING answer: its `materials` when given, else its ids named from the case. */
export function missingOf(error: ApiError, item: Pick<Case, 'materials'>): { id: number; name: string }[] {
  const named = error.details?.materials;
  if (Array.isArray(named)) return named.map((m: { id: number; name: string }) => ({ id: m.id, name: m.name }));
  const ids = Array.isArray(error.details?.missing) ? (error.details!.missing as number[]) : [];
  return ids.map((id) => ({ id, name: item.materials.find((m) => m.id === id)?.name ?? `材料 ${id}` }));
}

export type CaseButton = 'continue' | 'supplement' | 'withdraw' | 'pay' | 'rate';

export const BUTTON_TEXT: Record<CaseButton, string> = {
  continue: '继续填写并提交',
  supplement: '提交补正材料',
  pay: '缴费',
  rate: '评价',
  withdraw: '撤回申请',
};

/** The buttons of a case, from what the server allows this viewer now (allowed_actions, can_pay, can_rate). */
export function caseButtons(item: Pick<Case, 'status' | 'allowed_actions' | 'can_pay' | 'can_rate'>): CaseButton[] {
  const buttons: CaseButton[] = [];
  if (item.allowed_actions.includes('submit')) buttons.push(item.status === 'supplement_required' ? 'supplement' : 'continue');
  if (item.can_pay) buttons.push('pay');
  if (item.can_rate) buttons.push('rate');
  if (item.allowed_actions.includes('withdraw')) buttons.push('withdraw');
  return buttons;
}

/** The supplement items the staff asked for, each with its material's name and reason. */
export function supplementItems(item: Case): { materialId: number | null; name: string; reason: string }[] {
  return item.supplement_items.map((raw) => {
    const materialId = typeof raw.material_id === 'number' ? raw.material_id : null;
    const name = (typeof raw.material_name === 'string' && raw.material_name) || item.materials.find((m) => m.id === materialId)?.name || '其他';
    return { materialId, name, reason: String(raw.reason ?? '') };
  });
}

/** A case of mine, or null when the server says there is none for me (404: not mine, or no such case). */
export async function loadCase(client: ApiClient, caseId: number): Promise<Case | null> {
  try {
    return await client.GET('/api/v1/cases/{case_id}', { path: { case_id: caseId } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function listCases(client: ApiClient): Promise<CaseSummary[]> {
  const page = await client.GET('/api/v1/cases', { query: { page_size: 100 } });
  return page.items;
}

export function withdrawCase(client: ApiClient, item: Case): Promise<Case> {
  return client.POST('/api/v1/cases/{case_id}/withdraw', { path: { case_id: item.id }, body: { version: item.version } });
}

/** Link a case filed at a window by its receipt number and the applicant's ID number. */
export function linkCase(client: ApiClient, receiptNo: string, idNumber: string): Promise<Case> {
  return client.POST('/api/v1/cases/link', { body: { receipt_no: receiptNo.trim(), id_number: idNumber.trim().toUpperCase() } });
}

/** 2026-12-01T17:00:00+08:00 -> 2026-12-01 17:00 (the city's time, as the server wrote it). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').slice(0, 16);
}

/** Fen as yuan: 1250 -> ¥12.50. */
export function yuan(fen: number): string {
  return `¥${(fen / 100).toFixed(2)}`;
}

/** Whether a material has something standing for it: a file or a chosen licence. */
export function hasMaterial(material: CaseMaterial): boolean {
  return material.files.length > 0 || material.licences.length > 0;
}
