import { describe, expect, it } from 'vitest';
import { ApiError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { actionsOf, assigneeLabel, entryText, lightOf, mayAssign, owedStep, ticketErrorText, ticketService } from '../src/tickets/tickets';
import type { Ticket } from '../src/tickets/tickets';
import { alertLink, alertService, badgeText, unreadStore } from '../src/alerts/alerts';

const NOW = new Date('2026-12-01T02:00:00Z');

function ticket(changes: Partial<Ticket> = {}): Ticket {
  return {
    id: 5,
    kind: 'complaint',
    kind_name: '投诉',
    status: 'open',
    version: 3,
    department_id: 1,
    matter_id: null,
    case_id: null,
    hall_id: null,
    rating_id: null,
    content: '窗口说材料不全，让我跑了三次',
    created_at: '2026-11-30T02:00:00Z',
    due_at: '2026-12-03T02:00:00Z',
    is_overdue: false,
    reply_due_at: '2026-12-03T02:00:00Z',
    replied_at: null,
    callback_due_at: null,
    called_back_at: null,
    fix_due_at: null,
    fixed_at: null,
    reply: '',
    reopen_count: 0,
    escalated: false,
    escalated_at: null,
    fix_score: null,
    fix_comment: '',
    answer_due_at: null,
    closed_at: null,
    close_reason: '',
    voided: false,
    allowed_actions: ['reply'],
    ...changes,
  } as Ticket;
}

function recording(...answers: Array<{ status: number; body: unknown }>) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    return answers.shift() ?? { status: 500, body: null };
  };
  return { client: createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') }), sent };
}

describe('ticket lights and steps', () => {
  it('is green with days left, yellow in the last day, red when the backend says overdue', () => {
    expect(lightOf(ticket(), NOW)).toBe('green');
    expect(lightOf(ticket({ reply_due_at: '2026-12-01T20:00:00Z' }), NOW)).toBe('yellow');
    expect(lightOf(ticket({ is_overdue: true }), NOW)).toBe('red');
    expect(lightOf(ticket({ status: 'replied', allowed_actions: [] }), NOW)).toBe('none');
  });

  it('owes a rectification a call-back first and then a fix', () => {
    const open = ticket({ kind: 'rectification', callback_due_at: '2026-12-02T02:00:00Z', fix_due_at: '2026-12-08T02:00:00Z' });
    expect(owedStep(open)).toEqual({ name: '回访', due: '2026-12-02T02:00:00Z' });
    expect(owedStep({ ...open, status: 'called_back' })).toEqual({ name: '整改', due: '2026-12-08T02:00:00Z' });
    expect(owedStep({ ...open, status: 'closed' })).toBeNull();
  });

  it('offers only the actions the backend allows and the console has a form for', () => {
    expect(actionsOf(ticket({ allowed_actions: ['reply', 'close', 'assign', 'void'] }))).toEqual(['reply', 'close']);
    expect(actionsOf(ticket({ allowed_actions: [] }))).toEqual([]);
  });
});

describe('ticket log', () => {
  it('says who did what in Chinese, with the note', () => {
    expect(entryText({ actor: 'department', action: 'reply', note: '需要本人到场' })).toBe('承办部门 答复：需要本人到场');
    expect(entryText({ actor: 'citizen', action: 'file', note: '' })).toBe('群众 提交');
  });
});

describe('ticket actions', () => {
  it('replies with the ticket version and records a call-back as a note', async () => {
    const { client, sent } = recording({ status: 200, body: ticket() }, { status: 200, body: ticket() }, { status: 200, body: ticket() });
    const service = ticketService(client);
    await service.act(ticket(), 'reply', '已核实，材料齐全可以受理');
    await service.act(ticket({ kind: 'rectification' }), 'callback', '已电话回访');
    await service.act(ticket(), 'close', '重复提交');
    expect(sent.map((r) => [r.url, JSON.parse(r.body ?? '{}')])).toEqual([
      ['/api/v1/staff/tickets/5/reply', { content: '已核实，材料齐全可以受理', version: 3 }],
      ['/api/v1/staff/tickets/5/callback', { note: '已电话回访', version: 3 }],
      ['/api/v1/staff/tickets/5/close', { reason: '重复提交', version: 3 }],
    ]);
  });

  it('explains a conflict and keeps the next step clear', () => {
    expect(ticketErrorText(new ApiError(409, 'STALE_VERSION', 'x'))).toContain('您填写的内容仍保留');
    expect(ticketErrorText(new ApiError(403, 'ROLE_NOT_ALLOWED', '您的岗位不能办理该工单操作'))).toContain('监督员');
  });
});

describe('assigning a ticket to a staff member', () => {
  it('is offered when the backend allows assign_staff, and never as a note form', () => {
    expect(mayAssign(ticket({ allowed_actions: ['reply', 'assign_staff'] }))).toBe(true);
    expect(mayAssign(ticket())).toBe(false);
    expect(actionsOf(ticket({ allowed_actions: ['reply', 'assign_staff'] }))).toEqual(['reply']);
  });

  it('lists the department staff and assigns with the ticket version', async () => {
    const people = [{ id: 8, name: '李四', roles: ['clerk'] }];
    const { client, sent } = recording({ status: 200, body: people }, { status: 200, body: ticket({ version: 4 }) });
    const service = ticketService(client);
    expect(await service.assignees(ticket())).toEqual(people);
    await service.assign(ticket(), 8);
    expect(sent.map((r) => [r.method, r.url, r.body ? JSON.parse(r.body) : null])).toEqual([
      ['GET', '/api/v1/staff/tickets/5/assignees', null],
      ['POST', '/api/v1/staff/tickets/5/assign-staff', { staff_id: 8, version: 3 }],
    ]);
    expect(assigneeLabel({ id: 9, name: '王五', roles: ['approver', 'dept_admin'] })).toBe('王五（审批、部门管理员）');
  });

  it('names the assignment in the log and explains a refused assignee', () => {
    expect(entryText({ actor: 'department_admin', action: 'assign_staff', note: '' })).toBe('部门管理员 指派承办人');
    const refused = new ApiError(422, 'VALIDATION_FAILED', 'x', null, { fields: [{ field: 'staff_id', message: 'y' }] });
    expect(ticketErrorText(refused)).toContain('本部门在岗');
  });
});

describe('alerts and the unread count', () => {
  it('drops the badge at once when an alert is read and hides it at zero', async () => {
    let server = 3;
    const store = unreadStore(async () => server);
    const seen: number[] = [];
    store.subscribe((value) => seen.push(value));
    await store.refresh();
    store.set(store.get() - 1);
    server = 2;
    await store.refresh();
    expect(seen).toEqual([3, 2, 2]);
    expect(badgeText(store.get())).toBe('2');
    expect(badgeText(0)).toBe('');
    expect(badgeText(120)).toBe('99+');
  });

  it('keeps the last count when a poll fails', async () => {
    let fail = false;
    const store = unreadStore(async () => {
      if (fail) throw new TypeError('Failed to fetch');
      return 4;
    });
    await store.refresh();
    fail = true;
    expect(await store.refresh()).toBe(4);
  });

  it('reads one alert and all of them through the API', async () => {
    const { client, sent } = recording(
      { status: 200, body: { unread: 2 } },
      { status: 200, body: { id: 8, read: true } },
      { status: 200, body: { marked: 1, unread: 0 } },
    );
    const service = alertService(client);
    expect(await service.unread()).toBe(2);
    await service.read(8);
    expect((await service.readAll()).unread).toBe(0);
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/staff/alerts/unread-count',
      'POST /api/v1/staff/alerts/8/read',
      'POST /api/v1/staff/alerts/read-all',
    ]);
  });

  it('links a case alert to its desk and a rating alert to the tickets', () => {
    expect(alertLink({ subject: { type: 'case', id: 12 } })).toBe('/cases/12');
    expect(alertLink({ subject: { type: 'rating', id: 3 } })).toBe('/tickets');
    expect(alertLink({ subject: {} })).toBeNull();
  });
});
