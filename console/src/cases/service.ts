import { ApiError, NetworkError, toApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';

export type StaffCase = Schema<'StaffCaseOut'>;
export type CaseSummary = Schema<'CaseSummaryOut'>;
export type CaseMaterial = Schema<'CaseMaterialOut'>;
export type Light = 'green' | 'yellow' | 'red';

export const STATUS_NAMES: Record<string, string> = {
  draft: '草稿',
  submitted: '待受理',
  supplement_required: '待补正',
  accepted: '已受理',
  in_review: '审查中',
  suspended: '已中止',
  approved: '已准予',
  denied: '不予许可',
  rejected: '不予受理',
  delivered: '已送达',
  withdrawn: '已撤回',
};

export const LIGHT_NAMES: Record<Light, string> = { green: '绿灯', yellow: '黄灯', red: '红灯' };

export const ACTION_NAMES: Record<string, string> = {
  accept: '受理',
  request_supplement: '一次性告知补正',
  reject: '不予受理',
  start_review: '开始审查',
  suspend: '中止',
  resume: '恢复办理',
  approve: '准予许可',
  deny: '不予许可',
  deliver: '送达',
};

/** A timeline entry's move: the staff actions and the citizen's and system's own. */
export const STEP_NAMES: Record<string, string> = {
  ...ACTION_NAMES,
  create: '新建申请',
  submit: '提交申请',
  withdraw: '撤回申请',
  file_at_window: '窗口收件',
  link: '关联到小程序账号',
};

export const ACTOR_NAMES: Record<string, string> = {
  applicant: '申请人',
  proxy: '代办人',
  clerk: '受理人员',
  approver: '审批人',
  dept_admin: '部门管理员',
  supervisor: '监督员',
  admin: '系统管理员',
  system: '系统',
};

/** "2026-12-01 09:30 受理人员：受理（材料齐全）" */
export function describeStep(entry: { at: string; action: string; actor: string; note: string }): string {
  const what = STEP_NAMES[entry.action] ?? entry.action;
  return `${formatTime(entry.at)} ${ACTOR_NAMES[entry.actor] ?? entry.actor}：${what}${entry.note ? `（${entry.note}）` : ''}`;
}

// ---- the queue ----

export interface QueueFilters {
  status: string;
  light: string;
  search: string;
  page: number;
  pageSize: number;
}

export const EMPTY_FILTERS: QueueFilters = { status: '', light: '', search: '', page: 1, pageSize: 20 };

/** The query of GET /staff/cases for these filters (empty filters left out, the search trimmed). */
export function queueQuery(filters: QueueFilters) {
  const q = filters.search.trim();
  return {
    status: (filters.status || undefined) as StaffCaseStatus | undefined,
    light: (filters.light || undefined) as Light | undefined,
    q: q || undefined,
    page: filters.page,
    page_size: filters.pageSize,
  };
}
type StaffCaseStatus = NonNullable<CaseSummary['status']>;

/** A filter changed: back to page one (page two of another filter is rarely what the clerk meant). */
export function withFilter(filters: QueueFilters, change: Partial<Omit<QueueFilters, 'page'>>): QueueFilters {
  return { ...filters, ...change, page: 1 };
}

export function loadQueue(api: ApiClient, filters: QueueFilters) {
  return api.GET('/api/v1/staff/cases', { query: queueQuery(filters) });
}

// ---- the desk: an action's form ----

export type ActionField = 'items' | 'note' | 'method' | 'tracking_no';

export interface ActionSpec {
  fields: ActionField[];
  /** The note must be filled (the backend's note_required moves). */
  noteRequired: boolean;
  noteLabel: string;
  /** Ends the case or turns it away: asks once more before sending. */
  danger: boolean;
}

/** The form each allowed action needs (API.md's transitions); an action not known here needs only an optional note. */
export function actionSpec(action: string): ActionSpec {
  switch (action) {
    case 'request_supplement':
      return { fields: ['items', 'note'], noteRequired: false, noteLabel: '补正说明（选填）', danger: false };
    case 'suspend':
      return { fields: ['note'], noteRequired: true, noteLabel: '中止理由', danger: false };
    case 'reject':
      return { fields: ['note'], noteRequired: true, noteLabel: '不予受理理由', danger: true };
    case 'deny':
      return { fields: ['note'], noteRequired: true, noteLabel: '不予许可理由', danger: true };
    case 'deliver':
      return { fields: ['method', 'tracking_no', 'note'], noteRequired: false, noteLabel: '备注（选填）', danger: false };
    default:
      return { fields: ['note'], noteRequired: false, noteLabel: '备注（选填）', danger: false };
  }
}

export interface SupplementItem {
  materialId: number | null;
  reason: string;
}

/** What the clerk typed for one action; kept across a reload after STALE_VERSION. */
export interface ActionDraft {
  note: string;
  items: SupplementItem[];
  method: 'pickup' | 'express';
  trackingNo: string;
}

export const EMPTY_DRAFT: ActionDraft = { note: '', items: [], method: 'pickup', trackingNo: '' };

/** What is missing before the action can be sent, in Chinese (empty: ready). */
export function draftProblems(action: string, draft: ActionDraft): string[] {
  const spec = actionSpec(action);
  const problems: string[] = [];
  if (spec.noteRequired && !draft.note.trim()) problems.push(`请填写${spec.noteLabel}。`);
  if (spec.fields.includes('items')) {
    const filled = draft.items.filter((item) => item.reason.trim());
    if (filled.length === 0) problems.push('请至少列出一项需要补正的内容，并写明原因。');
    if (draft.items.some((item) => item.materialId !== null && !item.reason.trim())) {
      problems.push('每一项勾选的材料都需写明补正原因。');
    }
  }
  if (spec.fields.includes('tracking_no') && draft.method === 'express' && !draft.trackingNo.trim()) {
    problems.push('邮寄送达请填写快递单号。');
  }
  if (draft.trackingNo && !/^[A-Za-z0-9-]*$/.test(draft.trackingNo.trim())) {
    problems.push('快递单号只能包含字母、数字和连字符。');
  }
  return problems;
}

/** The POST /transitions body of an action, at the case version the clerk was looking at. */
export function transitionBody(action: string, draft: ActionDraft, version: number) {
  const spec = actionSpec(action);
  const body: {
    action: string;
    version: number;
    note: string;
    items?: { material_id: number | null; reason: string }[];
    method?: 'pickup' | 'express';
    tracking_no?: string;
  } = { action, version, note: draft.note.trim() };
  if (spec.fields.includes('items')) {
    body.items = draft.items
      .filter((item) => item.reason.trim())
      .map((item) => ({ material_id: item.materialId, reason: item.reason.trim() }));
  }
  if (spec.fields.includes('method')) {
    body.method = draft.method;
    if (draft.method === 'express') body.tracking_no = draft.trackingNo.trim();
  }
  return body;
}

/** Supplement items for the materials still lacking a file (required first): the clerk fills in the reasons. */
export function missingMaterialItems(materials: readonly CaseMaterial[]): SupplementItem[] {
  return materials
    .filter((m) => m.required && m.files.length === 0 && m.licences.length === 0)
    .map((m) => ({ materialId: m.id, reason: '' }));
}

export type TransitionOutcome =
  | { kind: 'done'; case: StaffCase }
  | { kind: 'stale'; case: StaffCase; changes: string[] }
  | { kind: 'failed'; message: string };

/** What changed between the case the clerk saw and the fresh one: the status and the timeline entries since. */
export function changesSince(seen: StaffCase, fresh: StaffCase): string[] {
  const changes: string[] = [];
  if (seen.status !== fresh.status) {
    changes.push(`状态已由「${STATUS_NAMES[seen.status] ?? seen.status}」变为「${STATUS_NAMES[fresh.status] ?? fresh.status}」`);
  }
  for (const entry of fresh.timeline.slice(seen.timeline.length)) changes.push(describeStep(entry));
  if (changes.length === 0) changes.push('办件已被他人更新。');
  return changes;
}

/** Sends an action; a lost race (STALE_VERSION) reloads the case and says what changed, the draft stays the caller's. */
export async function sendTransition(
  api: ApiClient,
  seen: StaffCase,
  action: string,
  draft: ActionDraft,
): Promise<TransitionOutcome> {
  try {
    const moved = await api.POST('/api/v1/staff/cases/{case_id}/transitions', {
      path: { case_id: seen.id },
      body: transitionBody(action, draft, seen.version) as never,
    });
    return { kind: 'done', case: moved as StaffCase };
  } catch (error) {
    if (error instanceof ApiError && (error.code === 'STALE_VERSION' || error.code === 'ILLEGAL_TRANSITION')) {
      const fresh = (await api.GET('/api/v1/staff/cases/{case_id}', { path: { case_id: seen.id } })) as StaffCase;
      return { kind: 'stale', case: fresh, changes: changesSince(seen, fresh) };
    }
    return { kind: 'failed', message: caseErrorText(error) };
  }
}

/** The drafts after an outcome: a sent action's draft is spent; a lost race or a failure keeps every word typed. */
export function draftsAfter(
  drafts: Record<string, ActionDraft>,
  action: string,
  outcome: TransitionOutcome,
): Record<string, ActionDraft> {
  if (outcome.kind !== 'done') return drafts;
  const rest = { ...drafts };
  delete rest[action];
  return rest;
}

/** Any case call's failure in plain Chinese with the next step. */
export function caseErrorText(error: unknown): string {
  if (error instanceof NetworkError) return '网络连接失败，请检查网络后重试。';
  if (!(error instanceof ApiError)) return '操作失败，请稍后重试。';
  if (error.status === 404) return '未找到该办件。它可能不属于您的部门，或编号有误；请从办件队列重新打开。';
  if (error.status === 403) return `没有权限：${error.message}。如需此权限，请联系本部门管理员。`;
  switch (error.code) {
    case 'PAYMENT_REQUIRED':
      return '申请人尚未缴费，缴费完成后才能办理这一步。';
    case 'MATERIALS_MISSING':
      return '必需的材料尚未收齐，请核对材料清单后再提交。';
    case 'INVALID_ID_NUMBER':
      return '身份证号码无效，请核对后重新输入。';
    case 'VALIDATION_FAILED': {
      const fields = (error.details?.fields as { message?: string }[] | undefined) ?? [];
      const said = fields.map((field) => field.message).filter(Boolean).join('；');
      return `${error.message}${said ? `：${said}` : ''}。请修改后重试。`;
    }
    default:
      return `${error.message}（${error.code}）。`;
  }
}

// ---- material files ----

/**
 * A material file as a Blob. Files are bytes, not JSON, so this is the one call outside the typed wrapper; it sends
 * the same bearer token and turns an error answer into the same ApiError.
 */
export async function fetchMaterialFile(
  api: ApiClient,
  caseId: number,
  fileId: number,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<Blob> {
  const token = api.tokens.get();
  let response: Response;
  try {
    response = await fetchImpl(`/api/v1/staff/cases/${caseId}/materials/${fileId}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  } catch (cause) {
    throw new NetworkError(cause, () => fetchMaterialFile(api, caseId, fileId, fetchImpl));
  }
  if (!response.ok) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: a proxy's page */
    }
    throw toApiError(response.status, body);
  }
  return response.blob();
}

// ---- times ----

/** An instant as Beijing time (the hall's), "2026-12-01 09:30". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at
    .toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false })
    .slice(0, 16);
}

/** A day as Beijing date "2026-12-01". */
export function formatDay(iso: string | null | undefined): string {
  return iso ? formatTime(iso).slice(0, 10) : '—';
}

// ---- window filing ----

export interface FilingDraft {
  matterId: number | null;
  applicantName: string;
  idNumber: string;
  form: Record<string, string>;
  materialsChecked: number[];
}

/** What is missing before filing, in Chinese (empty: ready). The ID number's check digit is the backend's to judge. */
export function filingProblems(draft: FilingDraft): string[] {
  const problems: string[] = [];
  if (draft.matterId === null) problems.push('请选择办理事项。');
  if (!draft.applicantName.trim()) problems.push('请填写申请人姓名。');
  if (!/^\d{17}[\dXx]$/.test(draft.idNumber.trim())) problems.push('请填写 18 位身份证号码。');
  return problems;
}

export function filingBody(draft: FilingDraft) {
  return {
    matter_id: draft.matterId as number,
    applicant_name: draft.applicantName.trim(),
    id_number: draft.idNumber.trim().toUpperCase(),
    form: Object.fromEntries(Object.entries(draft.form).filter(([, value]) => value.trim() !== '')),
    materials_checked: draft.materialsChecked,
  };
}
