import { ApiError, NetworkError } from '@govhall/api-client';

/** What the page says when a call failed, and whether a retry button makes sense. */
export function describeFailure(error: unknown): { text: string; retry: boolean } {
  if (error instanceof NetworkError) return { text: error.message, retry: true };
  if (error instanceof ApiError) return { text: error.message, retry: error.status >= 500 || error.status === 429 };
  if (error instanceof Error && error.name === 'LoginUnavailable') return { text: error.message, retry: false };
  return { text: '加载失败，请稍后重试', retry: true };
}
