import { describe, expect, it } from 'vitest';
import { ApiError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import {
  EMPTY_DRAFT,
  EMPTY_FILTERS,
  actionSpec,
  caseErrorText,
  changesSince,
  draftProblems,
  draftsAfter,
  fetchMaterialFile,
  filingBody,
  filingProblems,
  missingMaterialItems,
  queueQuery,
  sendTransition,
  transitionBody,
  withFilter,
  type StaffCase,
} from '../src/cases/service';

function scripted(...answers: Array<{ status: number; body: unknown }>) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    const answer = answers.shift();
    if (!answer) throw new TypeError('Failed to fetch');
    return answer;
  };
  return { api: createClient({ baseUrl: '', transport, tokens: memoryTokenStore('tok') }), sent };
}

const entry = (action: string, to: string, actor: string, note = '') => ({
  at: '2026-12-01T02:00:00+00:00',
  action,
  from: null,
  to,
  actor,
  note,
  details: null,
});

function aCase(change: Partial<StaffCase> = {}): StaffCase {
  return {
    id: 9,
    version: 3,
    status: 'submitted',
    timeline: [entry('submit', 'submitted', '申请人')],
    materials: [
      { id: 1, name: '居民身份证', required: true, form: 'original', e_licence: true, copies: 1, files: [], licences: [] },
      { id: 2, name: '申请表', required: true, form: 'copy', e_licence: false, copies: 2, files: [], licences: [] },
      { id: 3, name: '其他', required: false, form: 'copy', e_licence: false, copies: 0, files: [], licences: [] },
    ],
    ...change,
  } as unknown as StaffCase;
}

describe('queue filters', () => {
  it('leaves empty filters out and trims the search', () => {
    expect(queueQuery({ ...EMPTY_FILTERS, search: '  RS-2026 ' })).toEqual({
      status: undefined,
      light: undefined,
      q: 'RS-2026',
      page: 1,
      page_size: 20,
    });
    expect(queueQuery({ ...EMPTY_FILTERS, status: 'submitted', light: 'red', page: 3 })).toMatchObject({
      status: 'submitted',
      light: 'red',
      q: undefined,
      page: 3,
    });
  });

  it('goes back to page one when a filter changes', () => {
    expect(withFilter({ ...EMPTY_FILTERS, page: 4 }, { light: 'yellow' })).toMatchObject({ light: 'yellow', page: 1 });
  });

  it('sends the filters as the query string of the staff list', async () => {
    const { api, sent } = scripted({ status: 200, body: { items: [], total: 0, page: 1, page_size: 20, light_counts: {} } });
    await api.GET('/api/v1/staff/cases', { query: queueQuery({ ...EMPTY_FILTERS, status: 'accepted', search: '张三' }) });
    expect(sent[0].url).toBe(`/api/v1/staff/cases?status=accepted&q=${encodeURIComponent('张三')}&page=1&page_size=20`);
  });
});

describe('action forms', () => {
  it('asks every missing item at once for a supplement, a reason to suspend, reject and deny, method for deliver', () => {
    expect(actionSpec('request_supplement').fields).toEqual(['items', 'note']);
    expect(actionSpec('suspend')).toMatchObject({ fields: ['note'], noteRequired: true });
    expect(actionSpec('reject')).toMatchObject({ noteRequired: true, danger: true });
    expect(actionSpec('deny')).toMatchObject({ noteRequired: true, danger: true });
    expect(actionSpec('deliver').fields).toEqual(['method', 'tracking_no', 'note']);
    expect(actionSpec('approve')).toMatchObject({ fields: ['note'], noteRequired: false });
  });

  it('starts a supplement with one item per required material still missing', () => {
    expect(missingMaterialItems(aCase().materials)).toEqual([
      { materialId: 1, reason: '' },
      { materialId: 2, reason: '' },
    ]);
  });

  it('refuses to send a supplement without reasons, a denial without a reason, an express delivery without number', () => {
    expect(draftProblems('request_supplement', { ...EMPTY_DRAFT, items: [{ materialId: 1, reason: ' ' }] })).toHaveLength(2);
    expect(draftProblems('deny', EMPTY_DRAFT)[0]).toContain('不予许可理由');
    expect(draftProblems('deliver', { ...EMPTY_DRAFT, method: 'express' })[0]).toContain('快递单号');
    expect(draftProblems('deliver', { ...EMPTY_DRAFT, method: 'pickup' })).toEqual([]);
    expect(draftProblems('accept', EMPTY_DRAFT)).toEqual([]);
  });

  it('builds the transition body with the version seen, every item and only the fields the action takes', () => {
    const draft = {
      ...EMPTY_DRAFT,
      note: ' 请一并补交 ',
      items: [
        { materialId: 1, reason: '照片不清晰' },
        { materialId: null, reason: '缺少户口本首页' },
        { materialId: 3, reason: '' },
      ],
    };
    expect(transitionBody('request_supplement', draft, 7)).toEqual({
      action: 'request_supplement',
      version: 7,
      note: '请一并补交',
      items: [
        { material_id: 1, reason: '照片不清晰' },
        { material_id: null, reason: '缺少户口本首页' },
      ],
    });
    expect(transitionBody('deliver', { ...EMPTY_DRAFT, method: 'express', trackingNo: 'SF123' }, 2)).toEqual({
      action: 'deliver',
      version: 2,
      note: '',
      method: 'express',
      tracking_no: 'SF123',
    });
    expect(transitionBody('approve', draft, 5)).not.toHaveProperty('items');
  });
});

describe('a lost race (STALE_VERSION)', () => {
  const draft = { ...EMPTY_DRAFT, note: '我写的说明', items: [{ materialId: 2, reason: '缺第二页' }] };

  it('reloads the case, says what changed, and keeps what the clerk typed', async () => {
    const seen = aCase();
    const fresh = aCase({ version: 4, status: 'accepted', timeline: [...seen.timeline, entry('accept', 'accepted', 'clerk', '材料齐全')] });
    const { api, sent } = scripted(
      { status: 409, body: { error: { code: 'STALE_VERSION', message: '办件已被他人更新', request_id: 'r' } } },
      { status: 200, body: fresh },
    );
    const outcome = await sendTransition(api, seen, 'request_supplement', draft);
    expect(JSON.parse(sent[0].body ?? '{}')).toMatchObject({ version: 3, note: '我写的说明' });
    expect(sent[1]).toMatchObject({ method: 'GET', url: '/api/v1/staff/cases/9' });
    expect(outcome.kind).toBe('stale');
    if (outcome.kind !== 'stale') return;
    expect(outcome.case.status).toBe('accepted');
    expect(outcome.changes[0]).toBe('状态已由「待受理」变为「已受理」');
    expect(outcome.changes[1]).toContain('受理人员：受理（材料齐全）');
    const drafts = { request_supplement: draft };
    expect(draftsAfter(drafts, 'request_supplement', outcome)).toEqual({ request_supplement: draft });
  });

  it('spends the draft once the action went through', async () => {
    const { api } = scripted({ status: 200, body: aCase({ version: 4, status: 'supplement_required' }) });
    const outcome = await sendTransition(api, aCase(), 'request_supplement', draft);
    expect(outcome.kind).toBe('done');
    expect(draftsAfter({ request_supplement: draft, deny: draft }, 'request_supplement', outcome)).toEqual({ deny: draft });
  });

  it('keeps the draft and explains a refusal that is not a race', async () => {
    const { api } = scripted({
      status: 422,
      body: { error: { code: 'VALIDATION_FAILED', message: '请一次列出需要补正的全部内容', request_id: 'r', details: { fields: [{ field: 'items', message: '至少一项' }] } } },
    });
    const outcome = await sendTransition(api, aCase(), 'request_supplement', draft);
    expect(outcome).toEqual({ kind: 'failed', message: '请一次列出需要补正的全部内容：至少一项。请修改后重试。' });
    expect(draftsAfter({ request_supplement: draft }, 'request_supplement', outcome)).toEqual({ request_supplement: draft });
  });

  it('says something changed even when the timeline shows nothing new', () => {
    expect(changesSince(aCase(), aCase({ version: 4 }))).toEqual(['办件已被他人更新。']);
  });
});

describe('errors and files', () => {
  it('explains a case of another department as not found, with the next step', () => {
    expect(caseErrorText(new ApiError(404, 'CASE_NOT_FOUND', '办件不存在'))).toContain('未找到该办件');
    expect(caseErrorText(new ApiError(403, 'FORBIDDEN', '需要审批人角色'))).toContain('联系本部门管理员');
  });

  it('fetches a material file with the clerk token and turns a 404 into the same ApiError', async () => {
    const { api } = scripted();
    const calls: Array<[string, RequestInit | undefined]> = [];
    const fake = (async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      return new Response(JSON.stringify({ error: { code: 'CASE_NOT_FOUND', message: '办件不存在', request_id: 'r' } }), { status: 404 });
    }) as unknown as typeof fetch;
    await expect(fetchMaterialFile(api, 9, 4, fake)).rejects.toMatchObject({ status: 404, code: 'CASE_NOT_FOUND' });
    expect(calls[0][0]).toBe('/api/v1/staff/cases/9/materials/4');
    expect(calls[0][1]?.headers).toEqual({ Authorization: 'Bearer tok' });
  });
});

describe('window filing', () => {
  const draft = { matterId: 5, applicantName: ' 赵六 ', idNumber: '11010119900307123x', form: { reason: '现场', other: ' ' }, materialsChecked: [1, 2] };

  it('asks for the matter, the name and an 18-character ID number', () => {
    expect(filingProblems({ ...draft, matterId: null, applicantName: '', idNumber: '123' })).toHaveLength(3);
    expect(filingProblems(draft)).toEqual([]);
  });

  it('sends the trimmed name, the ID number with a capital X and only filled form fields', () => {
    expect(filingBody(draft)).toEqual({
      matter_id: 5,
      applicant_name: '赵六',
      id_number: '11010119900307123X',
      form: { reason: '现场' },
      materials_checked: [1, 2],
    });
  });
});
