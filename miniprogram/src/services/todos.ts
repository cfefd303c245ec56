import type { ApiClient, Schema } from '@govhall/api-client';
import type { Appointment } from './booking';
import { slotLabel, upcomingAppointments } from './booking';

export type CaseSummary = Schema<'CaseSummaryOut'>;

/** One line of "my to-dos": what to do, about what, and where the button leads. */
export interface Todo {
  key: string;
  title: string;
  detail: string;
  url: string;
}

// Ended cases owe nothing more (a fee on a denied or withdrawn case is refunded by the server).
const ENDED = new Set(['withdrawn', 'rejected', 'denied', 'delivered']);

/** What a case asks of its citizen now, from the server's own flags (allowed_actions, paid, can_rate). */
export function caseTodo(item: CaseSummary): Todo | null {
  const detail = `${item.matter_name}${item.receipt_no ? ` · ${item.receipt_no}` : ''}`;
  const url = `/pages-cases/detail/index?id=${item.id}`;
  const base = { key: `case-${item.id}`, detail, url };
  if (item.status === 'supplement_required' && item.allowed_actions.includes('submit')) return { ...base, title: '需补正材料' };
  if (item.status === 'draft' && item.allowed_actions.includes('submit')) return { ...base, title: '待提交申请' };
  if (item.amount_fen > 0 && !item.paid && item.status !== 'draft' && !ENDED.has(item.status)) return { ...base, title: '待缴费' };
  if (item.can_rate) return { ...base, title: '待评价' };
  return null;
}

/** The home page's to-dos: cases needing the citizen first, then the coming appointments (soonest first). */
export function buildTodos(cases: CaseSummary[], appointments: Appointment[], matterNames: Map<number, string>, now: Date): Todo[] {
  const caseTodos = cases.map(caseTodo).filter((todo): todo is Todo => todo !== null);
  const appointmentTodos = upcomingAppointments(appointments, now).map((appointment) => ({
    key: `appointment-${appointment.id}`,
    title: '预约待办理',
    detail: `${matterNames.get(appointment.matter_id) ?? '预约事项'} · ${slotLabel(appointment.slot)}`,
    url: `/pages-service/appointment/index?id=${appointment.id}`,
  }));
  return [...caseTodos, ...appointmentTodos];
}

/** The citizen's cases (first page, newest first). */
export async function myCases(client: ApiClient): Promise<CaseSummary[]> {
  return (await client.GET('/api/v1/cases', { query: { page_size: 50 } })).items;
}
