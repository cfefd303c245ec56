import { describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, createClient, fetchTransport, memoryTokenStore, queryString } from '../src';
import type { Transport, TransportRequest } from '../src';

/** A transport answering from a list, recording what was sent. */
function scripted(...answers: Array<{ status: number; body: unknown } | Error>) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    const answer = answers.shift();
    if (!answer) throw new Error('no answer scripted');
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { transport, sent };
}

const staffLogin = { token: 't1', expires_in: 3600, staff: { id: 1, name: '王敏', roles: ['clerk'], department_id: 2 } };

describe('createClient', () => {
  it('sends the bearer token from the store and the path and query filled in', async () => {
    const { transport, sent } = scripted({ status: 200, body: { items: [], total: 0, page: 2, page_size: 5 } });
    const client = createClient({ baseUrl: 'http://h', transport, tokens: memoryTokenStore('abc') });
    const page = await client.GET('/api/v1/staff/cases', { query: { status: 'submitted', page: 2, page_size: 5 } });
    expect(page.total).toBe(0);
    expect(sent[0].url).toBe('http://h/api/v1/staff/cases?status=submitted&page=2&page_size=5');
    expect(sent[0].headers.Authorization).toBe('Bearer abc');
    expect(sent[0].method).toBe('GET');
  });

  it('encodes path parameters and JSON bodies', async () => {
    const { transport, sent } = scripted({ status: 200, body: {} });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('abc') });
    await client.POST('/api/v1/staff/cases/{case_id}/transitions', {
      path: { case_id: 5 },
      body: { action: 'accept', version: 3 },
    });
    expect(sent[0].url).toBe('/api/v1/staff/cases/5/transitions');
    expect(sent[0].headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(sent[0].body!)).toEqual({ action: 'accept', version: 3 });
  });

  it('turns the error shape into an ApiError with status, code and the Chinese message', async () => {
    const { transport } = scripted({
      status: 401,
      body: { error: { code: 'INVALID_CREDENTIALS', message: '用户名或密码错误', request_id: 'r-1' } },
    });
    const relogin = vi.fn(async () => 'never');
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore(), relogin });
    const error = await client
      .POST('/api/v1/auth/staff', { body: { username: 'wang', password: 'x' }, auth: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS', message: '用户名或密码错误', requestId: 'r-1' });
    // a wrong password is not an expired session: no login again
    expect(relogin).not.toHaveBeenCalled();
  });

  it('keeps details (MATERIALS_MISSING names the missing material ids)', async () => {
    const { transport } = scripted({
      status: 422,
      body: { error: { code: 'MATERIALS_MISSING', message: '材料不全', request_id: 'r', details: { missing: [3, 4] } } },
    });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') });
    const error = (await client.POST('/api/v1/cases/{case_id}/submit', { path: { case_id: 1 } }).catch((e) => e)) as ApiError;
    expect(error.details).toEqual({ missing: [3, 4] });
  });

  it('gives a body that is not our shape a Chinese message too', async () => {
    const { transport } = scripted({ status: 502, body: '<html>Bad Gateway</html>' });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore() });
    const error = (await client.GET('/api/v1/themes').catch((e) => e)) as ApiError;
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502' });
    expect(error.message).toContain('服务暂时不可用');
  });

  it('on 401 with a token logs in again once and sends the request again once', async () => {
    const expired = { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } };
    const { transport, sent } = scripted(expired, { status: 200, body: staffLogin.staff });
    const tokens = memoryTokenStore('old');
    const relogin = vi.fn(async () => 'new');
    const client = createClient({ baseUrl: '', transport, tokens, relogin });
    const me = await client.GET('/api/v1/staff/me');
    expect(me.name).toBe('王敏');
    expect(relogin).toHaveBeenCalledTimes(1);
    expect(sent.map((r) => r.headers.Authorization)).toEqual(['Bearer old', 'Bearer new']);
    expect(tokens.get()).toBe('new');
  });

  it('a second 401 after logging in again is thrown, not retried forever, and the token is dropped', async () => {
    const expired = { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } };
    const { transport, sent } = scripted(expired, expired);
    const tokens = memoryTokenStore('old');
    const relogin = vi.fn(async () => 'new');
    const client = createClient({ baseUrl: '', transport, tokens, relogin });
    await expect(client.GET('/api/v1/staff/me')).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(relogin).toHaveBeenCalledTimes(1);
    expect(sent).toHaveLength(2);
    expect(tokens.get()).toBeNull();
  });

  it('requests failing with 401 together share one login', async () => {
    const expired = { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } };
    const { transport } = scripted(expired, expired, { status: 200, body: [] }, { status: 200, body: [] });
    let finish: (token: string) => void = () => {};
    const relogin = vi.fn(() => new Promise<string | null>((resolve) => (finish = resolve)));
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('old'), relogin });
    const both = Promise.all([client.GET('/api/v1/themes'), client.GET('/api/v1/halls')]);
    await vi.waitFor(() => expect(relogin).toHaveBeenCalled());
    finish('new');
    await both;
    expect(relogin).toHaveBeenCalledTimes(1);
  });

  it('a failed login again throws the 401 and leaves no token', async () => {
    const expired = { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } };
    const { transport } = scripted(expired);
    const tokens = memoryTokenStore('old');
    const client = createClient({ baseUrl: '', transport, tokens, relogin: async () => null });
    await expect(client.GET('/api/v1/me')).rejects.toBeInstanceOf(ApiError);
    expect(tokens.get()).toBeNull();
  });

  it('no answer at all is a NetworkError whose retry sends the request again', async () => {
    const { transport, sent } = scripted(new TypeError('Failed to fetch'), { status: 200, body: [{ id: 1 }] });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore() });
    const error = (await client.GET('/api/v1/themes').catch((e) => e)) as NetworkError;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe('网络连接失败，请检查网络后重试');
    await expect(error.retry()).resolves.toEqual([{ id: 1 }]);
    expect(sent).toHaveLength(2);
  });
});

describe('fetchTransport', () => {
  it('answers 4xx as a response and parses JSON', async () => {
    const fetchImpl = vi.fn(async () => new Response('{"error":{"code":"X","message":"m"}}', { status: 409 }));
    const answer = await fetchTransport(fetchImpl as unknown as typeof fetch)({ method: 'GET', url: '/x', headers: {} });
    expect(answer).toEqual({ status: 409, body: { error: { code: 'X', message: 'm' } } });
  });

  it('rejects when fetch rejects (then the client throws NetworkError)', async () => {
    const fetchImpl = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const client = createClient({ baseUrl: '', transport: fetchTransport(fetchImpl as unknown as typeof fetch), tokens: memoryTokenStore() });
    await expect(client.GET('/api/v1/halls')).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('queryString', () => {
  it('leaves out empty values and repeats arrays', () => {
    expect(queryString({ q: '社保', theme: undefined, page: 1, ids: [1, 2], empty: '' })).toBe(
      '?q=%E7%A4%BE%E4%BF%9D&page=1&ids=1&ids=2',
    );
  });
});

describe('types', () => {
  it('are checked by tsc (npm test runs it first)', () => {
    const client = createClient({ baseUrl: '', transport: scripted().transport, tokens: memoryTokenStore() });
    // @ts-expect-error a path the API does not have
    void (() => client.GET('/api/v1/nope'));
    // @ts-expect-error GET /api/v1/themes has no body
    void (() => client.POST('/api/v1/themes'));
    // @ts-expect-error the staff login body needs a password
    void (() => client.POST('/api/v1/auth/staff', { body: { username: 'a' } }));
    expect(true).toBe(true);
  });
});
