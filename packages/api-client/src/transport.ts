/** What the wrapper asks of a platform's HTTP: fetch on the web, Taro.request in mini-programs (which have no fetch). */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** Already JSON-encoded. */
  body?: string;
}

export interface TransportResponse {
  status: number;
  /** The parsed JSON body, the text when it was not JSON, or null when empty. */
  body: unknown;
}

/** Resolves with any HTTP answer (4xx and 5xx included); rejects only when no answer came. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** Parse a body as JSON when it is JSON; keep the text otherwise (an error page of a proxy). */
export function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A Transport over fetch (browsers: the console and the H5 app). */
export function fetchTransport(fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis), timeoutMs = 20_000): Transport {
  return async ({ method, url, headers, body }) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetchImpl(url, { method, headers, body, signal: controller.signal });
      return { status: response.status, body: parseBody(await response.text()) };
    } finally {
      clearTimeout(timer);
    }
  };
}
