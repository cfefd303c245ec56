import type { paths } from './schema';
import { NetworkError, toApiError } from './errors';
import type { TokenStore } from './tokens';
import type { Transport, TransportRequest } from './transport';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
// What send() needs of a call, whatever its path: the typed RequestInit narrows it at the call site.
type LooseInit = { body?: unknown; headers?: Record<string, string>; auth?: boolean };

/** The paths that have this method. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: infer Op } ? ([Op] extends [undefined] ? never : P) : never;
}[keyof paths];

type OperationOf<P extends keyof paths, M extends Method> = NonNullable<paths[P][M & keyof paths[P]]>;
type ParametersOf<Op> = Op extends { parameters: infer Params } ? Params : Record<string, never>;
type Present<T> = [T] extends [undefined] ? never : [T] extends [never] ? never : T;
type JsonBodyOf<Op> = Op extends { requestBody?: { content: { 'application/json': infer Body } } } ? Body : never;
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : null;

/** The JSON of the operation's success answer (200, else 201, else none). */
export type SuccessOf<Op> = Op extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : null
  : never;

/** What a call passes: path and query parameters as the document names them, the JSON body. */
export type RequestInit<P extends keyof paths, M extends Method> = {
  path?: Present<ParametersOf<OperationOf<P, M>> extends { path?: infer X } ? X : never>;
  query?: Present<ParametersOf<OperationOf<P, M>> extends { query?: infer X } ? X : never>;
  body?: JsonBodyOf<OperationOf<P, M>>;
  headers?: Record<string, string>;
  /** false: send no token and never log in again on 401 (the login calls themselves). */
  auth?: boolean;
};

export type Response<P extends keyof paths, M extends Method> = SuccessOf<OperationOf<P, M>>;

export interface ClientOptions {
  /** Where the API is, without a trailing slash: '' for the same origin, https://api.example.cn in a mini-program. */
  baseUrl: string;
  transport: Transport;
  tokens: TokenStore;
  /**
   * Logs in again and answers the new token (null: could not). Called once when a request carrying a token is
   * answered 401 (the session expired or was ended); the request is then sent again once.
   */
  relogin?: () => Promise<string | null>;
}

/** `{case_id}` in the template replaced by the value, encoded. */
export function fillPath(template: string, values: Record<string, unknown> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values?.[name];
    if (value === undefined || value === null) throw new Error(`path parameter ${name} missing for ${template}`);
    return encodeURIComponent(String(value));
  });
}

/** A query string of the defined values (arrays repeat the key), with its '?', or ''. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The one request wrapper both apps use, typed by the backend's OpenAPI document. */
export function createClient(options: ClientOptions) {
  const { baseUrl, transport, tokens, relogin } = options;
  // Several requests failing with 401 together log in once and all wait for that one login.
  let relogging: Promise<string | null> | null = null;

  function loginAgain(): Promise<string | null> {
    if (!relogin) return Promise.resolve(null);
    relogging ??= relogin()
      .then((token) => {
        tokens.set(token);
        return token;
      })
      .finally(() => {
        relogging = null;
      });
    return relogging;
  }

  async function send(method: TransportRequest['method'], url: string, init: LooseInit, retried: boolean): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(init.headers ?? {}) };
    const useAuth = init.auth !== false;
    const token = useAuth ? tokens.get() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let response;
    try {
      response = await transport({ method, url, headers, body });
    } catch (cause) {
      throw new NetworkError(cause, () => send(method, url, init, retried));
    }
    if (response.status === 401 && token && relogin && !retried) {
      const fresh = await loginAgain();
      if (fresh) return send(method, url, init, true);
    }
    if (response.status === 401 && token) tokens.set(null);
    if (response.status >= 400) throw toApiError(response.status, response.body);
    return response.body;
  }

  function call<M extends Method>(method: M) {
    return <P extends PathsWith<M>>(path: P, init: RequestInit<P, M> = {}): Promise<Response<P, M>> => {
      const url = baseUrl + fillPath(path as string, init.path as Record<string, unknown>) + queryString(init.query as Record<string, unknown>);
      return send(method.toUpperCase() as TransportRequest['method'], url, init, false) as Promise<Response<P, M>>;
    };
  }

  return {
    GET: call('get'),
    POST: call('post'),
    PUT: call('put'),
    PATCH: call('patch'),
    DELETE: call('delete'),
    tokens,
  };
}

export type ApiClient = ReturnType<typeof createClient>;
