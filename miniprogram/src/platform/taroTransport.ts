import { parseBody } from '@govhall/api-client';
import type { Transport } from '@govhall/api-client';

/** The slice of Taro.request the transport uses (injected in tests). */
export type TaroRequest = (options: {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  header: Record<string, string>;
  data?: string;
  dataType: string;
  responseType: 'text';
  timeout: number;
}) => Promise<{ statusCode: number; data: unknown }>;

function answered(error: unknown): { status: number; data: unknown } | null {
  // Alipay's my.request fails on an HTTP error status yet carries the answer (status, data): still an answer.
  if (typeof error !== 'object' || error === null) return null;
  const { status, statusCode, data } = error as { status?: unknown; statusCode?: unknown; data?: unknown };
  const code = typeof statusCode === 'number' ? statusCode : typeof status === 'number' ? status : null;
  return code !== null && code > 0 ? { status: code, data } : null;
}

/** A Transport over Taro.request: mini-programs have no fetch. */
export function taroTransport(request: TaroRequest, timeoutMs = 20_000): Transport {
  return async ({ method, url, headers, body }) => {
    try {
      // dataType other than 'json' hands back the raw text, parsed here the same way on every platform.
      const response = await request({ url, method, header: headers, data: body, dataType: 'text', responseType: 'text', timeout: timeoutMs });
      return { status: response.statusCode, body: typeof response.data === 'string' ? parseBody(response.data) : response.data };
    } catch (error) {
      const answer = answered(error);
      if (!answer) throw error;
      return { status: answer.status, body: typeof answer.data === 'string' ? parseBody(answer.data) : answer.data };
    }
  };
}
