import { describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { alipayAdapter } from '../src/platform/alipay';
import { LoginUnavailable, SIM_OPENID_KEY, h5Adapter } from '../src/platform/h5';
import { taroTransport } from '../src/platform/taroTransport';
import type { TaroRequest } from '../src/platform/taroTransport';
import { weappAdapter } from '../src/platform/weapp';
import { describeFailure } from '../src/services/errors';
import { loadHome, searchMatters } from '../src/services/catalog';
import { ensureLogin, greeting } from '../src/services/session';

const citizen = { id: 3, real_name_verified: false, name: null, id_number_masked: null, phone_masked: null, real_name_method: null, channels: ['wechat'], created_at: null };
const login = { token: 'tok', expires_in: 7200, citizen };

function recording(answer: (request: TransportRequest) => { status: number; body: unknown }) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    return answer(request);
  };
  return { transport, sent };
}

// The WeChat deps a login test does not reach (the real-name consent page).
const noNavigation = { navigateToMiniProgram: async () => ({}), onAppShow: () => {}, offAppShow: () => {} };

function okRequest(statusCode: number, data: unknown): TaroRequest {
  return vi.fn(async () => ({ statusCode, data }));
}

describe('taroTransport', () => {
  it('sends method, headers and the JSON text through Taro.request and parses the text answer', async () => {
    const request = okRequest(200, '{"items":[]}');
    const answer = await taroTransport(request)({ method: 'POST', url: 'https://api/x', headers: { A: '1' }, body: '{"a":1}' });
    expect(answer).toEqual({ status: 200, body: { items: [] } });
    expect(request).toHaveBeenCalledWith(expect.objectContaining({ url: 'https://api/x', method: 'POST', header: { A: '1' }, data: '{"a":1}' }));
  });

  it("takes Alipay's failed-with-status as the answer it is", async () => {
    const request: TaroRequest = vi.fn(async () => {
      throw { error: 19, status: 409, data: '{"error":{"code":"SLOT_FULL","message":"该时段已约满","request_id":"r"}}' };
    });
    const client = createClient({ baseUrl: '', transport: taroTransport(request), tokens: memoryTokenStore('t') });
    await expect(client.GET('/api/v1/themes')).rejects.toMatchObject({ status: 409, code: 'SLOT_FULL', message: '该时段已约满' });
  });

  it('a request that failed without an answer is a NetworkError', async () => {
    const request: TaroRequest = vi.fn(async () => {
      throw { errMsg: 'request:fail timeout' };
    });
    const client = createClient({ baseUrl: '', transport: taroTransport(request), tokens: memoryTokenStore() });
    await expect(client.GET('/api/v1/themes')).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('platform logins', () => {
  it('weapp: the wx.login code goes to /api/v1/auth/wechat without a token', async () => {
    const { transport, sent } = recording(() => ({ status: 200, body: login }));
    const adapter = weappAdapter({ ...noNavigation, login: async () => ({ code: 'wx-code' }), request: okRequest(200, '') });
    const client = createClient({ baseUrl: 'https://api', transport, tokens: memoryTokenStore('old') });
    await expect(adapter.login(client)).resolves.toEqual(login);
    expect(sent[0].url).toBe('https://api/api/v1/auth/wechat');
    expect(JSON.parse(sent[0].body!)).toEqual({ code: 'wx-code' });
    expect(sent[0].headers.Authorization).toBeUndefined();
  });

  it("alipay: my.getAuthCode's code goes to /api/v1/auth/alipay as auth_code", async () => {
    const { transport, sent } = recording(() => ({ status: 200, body: login }));
    const adapter = alipayAdapter({ authCode: async () => 'ali-code', request: okRequest(200, '') });
    await adapter.login(createClient({ baseUrl: '', transport, tokens: memoryTokenStore() }));
    expect(sent[0].url).toBe('/api/v1/auth/alipay');
    expect(JSON.parse(sent[0].body!)).toEqual({ auth_code: 'ali-code' });
  });

  it('h5 in sim mode: a simulator code for the kept openid, then /api/v1/auth/wechat', async () => {
    const kept = new Map<string, string>();
    const storage = { get: (key: string) => kept.get(key) ?? null, set: (key: string, value: string) => void kept.set(key, value) };
    const { transport, sent } = recording((request) =>
      request.url.endsWith('/sim/wechat/code') ? { status: 200, body: { code: 'sim-code' } } : { status: 200, body: login },
    );
    const adapter = h5Adapter({ simMode: true, storage, newOpenid: () => 'h5-abc', askConsent: async () => true });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore() });
    await adapter.login(client);
    await adapter.login(client);
    expect(sent.map((r) => r.url)).toEqual(['/sim/wechat/code', '/api/v1/auth/wechat', '/sim/wechat/code', '/api/v1/auth/wechat']);
    // the same browser stays the same citizen
    expect(JSON.parse(sent[0].body!)).toEqual({ openid: 'h5-abc' });
    expect(JSON.parse(sent[2].body!)).toEqual({ openid: 'h5-abc' });
    expect(kept.get(SIM_OPENID_KEY)).toBe('h5-abc');
    expect(JSON.parse(sent[1].body!)).toEqual({ code: 'sim-code' });
  });

  it('h5 outside sim mode refuses to log in, saying where to go instead', async () => {
    const adapter = h5Adapter({ simMode: false, storage: { get: () => null, set: () => {} }, newOpenid: () => 'x', askConsent: async () => true });
    const client = createClient({ baseUrl: '', transport: recording(() => ({ status: 500, body: null })).transport, tokens: memoryTokenStore() });
    const error = await adapter.login(client).catch((e) => e);
    expect(error).toBeInstanceOf(LoginUnavailable);
    expect(describeFailure(error)).toEqual({ text: '网页版仅供演示环境使用，请在微信或支付宝小程序中办理', retry: false });
  });
});

describe('session', () => {
  it('logs in through the platform when there is no token and keeps the token', async () => {
    const tokens = memoryTokenStore();
    const client = createClient({ baseUrl: '', transport: recording(() => ({ status: 500, body: null })).transport, tokens });
    const platform = weappAdapter({ ...noNavigation, login: async () => ({ code: 'c' }), request: okRequest(200, '') });
    platform.login = vi.fn(async () => login);
    await expect(ensureLogin(client, platform)).resolves.toEqual(citizen);
    expect(tokens.get()).toBe('tok');
  });

  it('with an expired token logs in again once through the platform and asks again', async () => {
    let calls = 0;
    const { transport, sent } = recording((request) => {
      if (request.url === '/api/v1/auth/wechat') return { status: 200, body: login };
      calls += 1;
      return calls === 1
        ? { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } }
        : { status: 200, body: { ...citizen, name: '李华', real_name_verified: true } };
    });
    const tokens = memoryTokenStore('expired');
    const platform = weappAdapter({ ...noNavigation, login: async () => ({ code: 'c' }), request: okRequest(200, '') });
    const client = createClient({ baseUrl: '', transport, tokens, relogin: async () => (await platform.login(client)).token });
    const who = await ensureLogin(client, platform);
    expect(greeting(who)).toBe('李华，您好');
    expect(sent.map((r) => r.url)).toEqual(['/api/v1/me', '/api/v1/auth/wechat', '/api/v1/me']);
    expect(tokens.get()).toBe('tok');
  });

  it('greets a citizen without a real name by asking for it', () => {
    expect(greeting(citizen)).toBe('您好，请先完成实名认证');
  });
});

describe('catalog', () => {
  it('loads themes and the common matters', async () => {
    const { transport, sent } = recording((request) =>
      request.url.startsWith('/api/v1/themes')
        ? { status: 200, body: { items: [{ id: 1, code: 'birth', name: '生育收养', audience: 'person' }], total: 1, page: 1, page_size: 100 } }
        : { status: 200, body: { items: [], total: 0, page: 1, page_size: 8 } },
    );
    const home = await loadHome(createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') }));
    expect(home.themes[0].name).toBe('生育收养');
    expect(sent.map((r) => r.url).sort()).toEqual(['/api/v1/matters?page_size=8', '/api/v1/themes?page_size=100']);
  });

  it('searches with the words trimmed and asks nothing for blank words', async () => {
    const { transport, sent } = recording(() => ({ status: 200, body: { items: [], total: 0, page: 1, page_size: 20 } }));
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') });
    await searchMatters(client, '  社保 ');
    await expect(searchMatters(client, '   ')).resolves.toEqual([]);
    expect(sent.map((r) => r.url)).toEqual(['/api/v1/matters?q=%E7%A4%BE%E4%BF%9D&page_size=20']);
  });

  it('offers a retry for network failures and server trouble, not for a refusal', () => {
    expect(describeFailure(new NetworkError(null, async () => null)).retry).toBe(true);
    expect(describeFailure(new ApiError(503, 'SERVICE_UNAVAILABLE', '服务繁忙')).retry).toBe(true);
    expect(describeFailure(new ApiError(403, 'FORBIDDEN', '无权')).retry).toBe(false);
  });
});
