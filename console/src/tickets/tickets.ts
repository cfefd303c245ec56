import { ApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';
import { apiErrorText } from '../session/errors';

export type Ticket = Schema<'TicketOut'>;
export type Assignee = Schema<'AssigneeOut'>;
/** The staff actions the console offers, each taking a note (reply text, call-back record, fix record, reason). */
export type TicketAction = 'reply' | 'callback' | 'fix' | 'close';
export type Light = 'green' | 'yellow' | 'red' | 'none';

export const TICKET_ACTIONS: Record<TicketAction, { label: string; field: string; placeholder: string }> = {
  reply: { label: '答复', field: '答复内容', placeholder: '直接回答群众的问题：结论、依据、下一步怎么办' },
  callback: { label: '记录回访', field: '回访记录', placeholder: '已电话联系群众，群众反映……' },
  fix: { label: '记录整改', field: '整改情况', placeholder: '已整改的问题与措施……' },
  close: { label: '关闭工单', field: '关闭理由', placeholder: '关闭理由（如重复提交、已线下解决）' },
};

export const STATUS_NAMES: Record<Ticket['status'], string> = {
  open: '待处理',
  replied: '已答复',
  called_back: '已回访',
  fixed: '已整改',
  closed: '已关闭',
};

/** The step owed now and its deadline (reply, call back, fix), or null when nothing is owed by staff. */
export function owedStep(ticket: Ticket): { name: string; due: string } | null {
  if (ticket.status === 'closed') return null;
  if (ticket.kind === 'rectification') {
    if (ticket.status === 'open' && ticket.callback_due_at) return { name: '回访', due: ticket.callback_due_at };
    if (ticket.status === 'called_back' && ticket.fix_due_at) return { name: '整改', due: ticket.fix_due_at };
    return null;
  }
  if (ticket.status === 'open' && (ticket.reply_due_at ?? ticket.due_at)) {
    return { name: '答复', due: (ticket.reply_due_at ?? ticket.due_at) as string };
  }
  return null;
}

/**
 * The ticket's light, as the case queue's: red past the deadline (the backend's is_overdue), yellow within the
 * last day before it, green otherwise; none when staff owe nothing.
 */
export function lightOf(ticket: Ticket, now: Date = new Date()): Light {
  if (ticket.is_overdue) return 'red';
  const step = owedStep(ticket);
  if (!step) return 'none';
  const left = new Date(step.due).getTime() - now.getTime();
  if (left <= 0) return 'red';
  return left <= 24 * 3600 * 1000 ? 'yellow' : 'green';
}

export const LIGHT_NAMES: Record<Light, string> = { red: '已超期', yellow: '即将到期', green: '正常', none: '无待办' };

/** The actions this staff member may take now: the backend's allowed_actions the console has a form for. */
export function actionsOf(ticket: Ticket): TicketAction[] {
  return (Object.keys(TICKET_ACTIONS) as TicketAction[]).filter((action) => ticket.allowed_actions.includes(action));
}

/** Whether this staff member may give the ticket to someone of its department now (its dept_admin, a supervisor). */
export function mayAssign(ticket: Ticket): boolean {
  return ticket.allowed_actions.includes('assign_staff');
}

const ROLE_NAMES: Record<string, string> = { clerk: '窗口受理', approver: '审批', dept_admin: '部门管理员' };

/** A choice of the assign form: "李四（窗口受理）". */
export function assigneeLabel(assignee: Assignee): string {
  const roles = assignee.roles.map((role) => ROLE_NAMES[role] ?? role).join('、');
  return roles ? `${assignee.name}（${roles}）` : assignee.name;
}

export interface TicketFilter {
  kind?: 'consult' | 'complaint' | 'suggestion' | 'rectification' | 'feedback';
  status?: Ticket['status'];
  overdue?: boolean;
  escalated?: boolean;
  page?: number;
}

/** Ticket calls of the console. */
export function ticketService(client: ApiClient) {
  return {
    list: (filter: TicketFilter) => client.GET('/api/v1/staff/tickets', { query: { page_size: 20, ...filter } }),
    get: (id: number): Promise<Ticket> => client.GET('/api/v1/staff/tickets/{ticket_id}', { path: { ticket_id: id } }),
    assignees: (ticket: Ticket): Promise<Assignee[]> =>
      client.GET('/api/v1/staff/tickets/{ticket_id}/assignees', { path: { ticket_id: ticket.id } }),
    assign: (ticket: Ticket, staffId: number): Promise<Ticket> =>
      client.POST('/api/v1/staff/tickets/{ticket_id}/assign-staff', {
        path: { ticket_id: ticket.id },
        body: { staff_id: staffId, version: ticket.version },
      }),
    act(ticket: Ticket, action: TicketAction, note: string): Promise<Ticket> {
      const path = { ticket_id: ticket.id };
      const version = ticket.version;
      if (action === 'reply') return client.POST('/api/v1/staff/tickets/{ticket_id}/reply', { path, body: { content: note, version } });
      if (action === 'callback') return client.POST('/api/v1/staff/tickets/{ticket_id}/callback', { path, body: { note, version } });
      if (action === 'fix') return client.POST('/api/v1/staff/tickets/{ticket_id}/fix', { path, body: { note, version } });
      return client.POST('/api/v1/staff/tickets/{ticket_id}/close', { path, body: { reason: note, version } });
    },
  };
}

export type TicketService = ReturnType<typeof ticketService>;

/** What to tell staff when a ticket action fails, with the next step. */
export function ticketErrorText(error: unknown): string {
  if (!(error instanceof ApiError)) return apiErrorText(error);
  switch (error.code) {
    case 'STALE_VERSION':
      return '这张工单刚被别人处理过。已重新载入最新内容，您填写的内容仍保留，请核对后再提交。';
    case 'ILLEGAL_TRANSITION':
      return '工单当前状态不能做此操作（可能已被处理），请刷新后按当前可办的操作办理。';
    case 'NOTE_REQUIRED':
      return '请先填写内容再提交。';
    case 'ROLE_NOT_ALLOWED':
      return `${error.message}。请由本部门受理人员或监督员办理。`;
    case 'TICKET_NOT_FOUND':
      return '工单不存在，或不属于您的部门。';
    case 'VALIDATION_FAILED': {
      const fields = (error.details?.fields ?? []) as { field?: string }[];
      if (fields.some((field) => field.field === 'staff_id')) return '只能指派给本部门在岗的工作人员，请重新选择。';
      return '内容不能为空，且不超过 1000 字。';
    }
    default:
      return apiErrorText(error);
  }
}

const ACTOR_NAMES: Record<string, string> = {
  citizen: '群众',
  department: '承办部门',
  department_admin: '部门管理员',
  supervisor: '监督员',
  system: '系统',
};
const ENTRY_NAMES: Record<string, string> = {
  file: '提交',
  reply: '答复',
  confirm: '确认已解决',
  reopen: '认为未解决，重开',
  assign: '转办',
  assign_staff: '指派承办人',
  callback: '回访',
  fix: '整改',
  rate_fix: '评价整改',
  close: '关闭',
  void: '作废',
  escalate: '升级督办',
  lapse: '逾期未回应，自动结束',
};

/** One line of the ticket's log in Chinese: "承办部门 答复：……". */
export function entryText(entry: { actor: string; action: string; note: string }): string {
  const who = ACTOR_NAMES[entry.actor] ?? entry.actor;
  const what = ENTRY_NAMES[entry.action] ?? entry.action;
  return entry.note ? `${who} ${what}：${entry.note}` : `${who} ${what}`;
}
