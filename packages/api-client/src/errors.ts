/** The API's error shape (docs/API.md): {"error": {"code", "message", "request_id", "details"?}}. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    request_id?: string | null;
    details?: Record<string, unknown> | null;
  };
}

/** The server answered with an error: `code` is stable (switch on it), `message` is Chinese and fit to show. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: Record<string, unknown> | null;

  constructor(status: number, code: string, message: string, requestId: string | null = null, details: Record<string, unknown> | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

/** The request never got an answer (offline, DNS, timeout, server unreachable): the UI offers `retry()`. */
export class NetworkError extends Error {
  readonly cause: unknown;
  /** Sends the same request again (with the token of now). */
  readonly retry: () => Promise<unknown>;

  constructor(cause: unknown, retry: () => Promise<unknown>) {
    super('网络连接失败，请检查网络后重试');
    this.name = 'NetworkError';
    this.cause = cause;
    this.retry = retry;
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/** An error answer as an ApiError; a body not in our shape (a proxy's HTML page, say) still gets a Chinese message. */
export function toApiError(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) {
    const { code, message, request_id, details } = body.error;
    return new ApiError(status, code, message || fallbackMessage(status), request_id ?? null, details ?? null);
  }
  return new ApiError(status, `HTTP_${status}`, fallbackMessage(status));
}

function fallbackMessage(status: number): string {
  if (status === 401) return '登录已失效，请重新登录';
  if (status === 403) return '没有权限进行此操作';
  if (status === 404) return '未找到相关内容';
  if (status === 429) return '操作太频繁，请稍后再试';
  if (status >= 500) return `服务暂时不可用，请稍后再试（HTTP ${status}）`;
  return `请求未能完成（HTTP ${status}）`;
}
