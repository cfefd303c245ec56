import type { ApiClient, Schema } from '@govhall/api-client';

export type Message = Schema<'MessageOut'>;

export async function loadInbox(client: ApiClient): Promise<{ items: Message[]; unread: number }> {
  const page = await client.GET('/api/v1/me/messages', { query: { page_size: 50 } });
  return { items: page.items, unread: page.unread };
}

export function markRead(client: ApiClient, messageId: number): Promise<Message> {
  return client.POST('/api/v1/me/messages/{message_id}/read', { path: { message_id: messageId } });
}

/** Where a message leads: its case's detail page, its feedback ticket, or nowhere. */
export function messageLink(message: Pick<Message, 'subject'>): string | null {
  const subject = message.subject ?? {};
  const caseId = subject.case_id ?? (subject.type === 'case' ? subject.id : undefined);
  if (typeof caseId === 'number') return `/pages-cases/detail/index?id=${caseId}`;
  const ticketId = subject.ticket_id ?? (subject.type === 'ticket' ? subject.id : undefined);
  if (typeof ticketId === 'number') return `/pages-cases/feedback/detail/index?id=${ticketId}`;
  return null;
}
