import type { ApiClient } from '@govhall/api-client';
import type { Ticket } from './ratings';

export type FeedbackKind = 'consult' | 'complaint' | 'suggestion';

export const KIND_TEXT: Record<FeedbackKind, string> = { consult: '咨询', complaint: '投诉', suggestion: '建议' };

/** What stops this feedback from being sent; null when it may go. */
export function checkFeedback(kind: string, content: string): string | null {
  if (!(kind in KIND_TEXT)) return '请选择咨询、投诉或建议';
  const text = content.trim();
  if (!text) return '请写下您要咨询、投诉或建议的内容';
  if (text.length > 1000) return '内容最多 1000 个字';
  return null;
}

export function sendFeedback(client: ApiClient, kind: FeedbackKind, content: string, caseId?: number | null): Promise<Ticket> {
  return client.POST('/api/v1/feedback', { body: { kind, content: content.trim(), ...(caseId ? { case_id: caseId } : {}) } });
}

export async function myFeedback(client: ApiClient): Promise<Ticket[]> {
  const page = await client.GET('/api/v1/feedback', { query: { page_size: 100 } });
  return page.items;
}

export function feedbackOf(client: ApiClient, ticketId: number): Promise<Ticket> {
  return client.GET('/api/v1/feedback/{ticket_id}', { path: { ticket_id: ticketId } });
}

/** The reply solved it. */
export function confirmReply(client: ApiClient, ticket: Ticket): Promise<Ticket> {
  return client.POST('/api/v1/feedback/{ticket_id}/confirm', { path: { ticket_id: ticket.id } });
}

/** The reply did not solve it: what is still wrong goes back to the department. */
export function reopenTicket(client: ApiClient, ticket: Ticket, reason: string): Promise<Ticket> {
  return client.POST('/api/v1/feedback/{ticket_id}/reopen', { path: { ticket_id: ticket.id }, body: { reason: reason.trim() } });
}
