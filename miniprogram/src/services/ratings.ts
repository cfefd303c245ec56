import type { ApiClient, Schema } from '@govhall/api-client';

export type Rating = Schema<'RatingOut'>;
export type Ticket = Schema<'TicketOut'>;

export const SCORE_TEXT: Record<number, string> = { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' };

/** Reasons a citizen can tick for a bad rating (the comment still says what happened). */
export const BAD_TAGS = ['办理时间长', '材料要求不清', '多次跑腿', '服务态度差', '系统操作不便'];

/** What stops this rating from being sent; null when it may go. Scores 1-2 need a reason (REASON_REQUIRED). */
export function checkRating(score: number, comment: string): string | null {
  if (!Number.isInteger(score) || score < 1 || score > 5) return '请选择满意程度';
  if (score <= 2 && !comment.trim()) return '“不满意”和“非常不满意”请写明原因，我们会回访整改';
  if (comment.trim().length > 500) return '评价内容最多 500 个字';
  return null;
}

export function rateCase(client: ApiClient, caseId: number, score: number, comment: string, tags: string[] = []): Promise<Rating> {
  return client.POST('/api/v1/ratings', { body: { case_id: caseId, score, comment: comment.trim(), tags } });
}

/** My rating of this case (with its rectification ticket when it was a bad one), or null. */
export async function ratingOfCase(client: ApiClient, caseId: number): Promise<Rating | null> {
  const page = await client.GET('/api/v1/ratings', { query: { page_size: 100 } });
  return page.items.find((rating) => rating.case_id === caseId) ?? null;
}

export const TICKET_STATUS_TEXT: Record<string, string> = {
  open: '待处理',
  replied: '已答复，待您确认',
  called_back: '已回访',
  fixed: '已整改，待您评价',
  closed: '已办结',
};

/** A ticket's state in words; a rectification waits for the department's call-back first. */
export function ticketStatusText(status: string, kind?: string): string {
  if (kind === 'rectification' && status === 'open') return '待回访整改';
  return TICKET_STATUS_TEXT[status] ?? status;
}

/** The citizen rates the fix of their bad rating (GET /ratings/{id} shows the ticket's state). */
export function rateFix(client: ApiClient, ratingId: number, score: number, comment: string): Promise<Rating> {
  return client.POST('/api/v1/ratings/{rating_id}/fix-rating', { path: { rating_id: ratingId }, body: { score, comment: comment.trim() } });
}
