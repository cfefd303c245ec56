import { describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { alipayAdapter, faceVerify } from '../src/platform/alipay';
import { h5Adapter, SIM_OPENID_KEY } from '../src/platform/h5';
import { RealNameCancelled } from '../src/platform/types';
import type { PlatformAdapter, Verification } from '../src/platform/types';
import { wechatConsent, weappAdapter } from '../src/platform/weapp';
import type { AppShowInfo } from '../src/platform/weapp';
import { ELDER_KEY, ELDER_ROOT_CLASS, createElderMode, shellClass } from '../src/services/elderMode';
import { barsOf, countsOf, loadFigures, percent } from '../src/services/figures';
import type { DepartmentFigures, HallFigures } from '../src/services/figures';
import { checkIdentityForm, explainIdentityFailure, finishRealName, proofActionLabel, realNameSummary, startRealName } from '../src/services/identity';
import { checkGrantForm, describeGrant, explainGrantFailure, grantProxy, loadProxies, revokeProxy } from '../src/services/proxies';
import type { ProxyGrant } from '../src/services/proxies';
import { channelsText, logout } from '../src/services/session';

function recording(answer: (request: TransportRequest) => { status: number; body: unknown }) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    return answer(request);
  };
  return { transport, sent, client: createClient({ baseUrl: '', transport, tokens: memoryTokenStore('tok') }) };
}

const error = (status: number, code: string, message: string, details?: Record<string, unknown>) => ({
  status,
  body: { error: { code, message, request_id: 'r', details } },
});

const wechatVerification: Verification = {
  id: 7,
  method: 'wechat',
  status: 'pending',
  name: '李华',
  id_number_masked: '110***********0012',
  phone_masked: '138****5678',
  sms_code_required: true,
  expires_at: null,
  wechat: { appid: 'wx308bd2aeb83d3345', path: 'pages/realname/index' },
  alipay: null,
};
const alipayVerification: Verification = { ...wechatVerification, method: 'alipay', wechat: null, alipay: { certify_id: 'cert-1', certify_url: 'https://openapi/certify?x=1' } };
const verifiedCitizen = {
  id: 3,
  real_name_verified: true,
  name: '李华',
  id_number_masked: '110***********0012',
  phone_masked: '138****5678',
  real_name_method: 'wechat' as const,
  channels: ['wechat'],
  created_at: null,
};

function fakePlatform(proof: { code?: string } | Error): PlatformAdapter & { verifyRealName: ReturnType<typeof vi.fn> } {
  return {
    name: 'weapp',
    transport: async () => ({ status: 500, body: null }),
    login: vi.fn(),
    payChannels: () => ['wechat'],
    pay: vi.fn(),
    subscribeChannel: 'wechat',
    requestSubscribe: vi.fn(),
    chooseFile: vi.fn(),
    upload: vi.fn(),
    verifyRealName: vi.fn(async () => {
      if (proof instanceof Error) throw proof;
      return proof;
    }),
  };
}

describe('real-name binding: the two steps', () => {
  it('names the slips of the form per field before sending anything', () => {
    expect(checkIdentityForm({ name: '李', idNumber: '11010519491231002', phone: '1381234567' })).toEqual({
      name: expect.stringContaining('姓名'),
      idNumber: expect.stringContaining('18 位'),
      phone: expect.stringContaining('11 位'),
    });
    expect(checkIdentityForm({ name: '李华', idNumber: '11010519491231002x', phone: '138 1234 5678' })).toEqual({});
  });

  it('step 1 sends the trimmed claim with the ID number upper-cased and the phone without spaces', async () => {
    const { client, sent } = recording(() => ({ status: 202, body: { verification: wechatVerification, citizen: { ...verifiedCitizen, real_name_verified: false } } }));
    const verification = await startRealName(client, { name: ' 李华 ', idNumber: '11010519491231002x', phone: '138 1234 5678' });
    expect(verification.id).toBe(7);
    expect(sent[0].method).toBe('PUT');
    expect(sent[0].url).toBe('/api/v1/me/identity');
    expect(JSON.parse(sent[0].body!)).toEqual({ name: '李华', id_number: '11010519491231002X', phone: '13812345678' });
  });

  it("step 2 takes the platform's proof and confirms it with the SMS code", async () => {
    const { client, sent } = recording(() => ({ status: 200, body: verifiedCitizen }));
    const platform = fakePlatform({ code: 'consent-code' });
    const citizen = await finishRealName(client, platform, wechatVerification, ' 123456 ');
    expect(platform.verifyRealName).toHaveBeenCalledWith(client, wechatVerification);
    expect(sent[0].url).toBe('/api/v1/me/identity/verifications/7/confirm');
    expect(JSON.parse(sent[0].body!)).toEqual({ code: 'consent-code', sms_code: '123456' });
    expect(realNameSummary(citizen)).toEqual({ verified: true, title: '李华 · 已实名', lines: ['认证方式 微信实名校验', '身份证号 110***********0012', '手机号 138****5678'] });
  });

  it('an Alipay verification confirms without a code; no SMS field when none was texted', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: { ...verifiedCitizen, real_name_method: 'alipay' } }));
    await finishRealName(client, fakePlatform({}), { ...alipayVerification, sms_code_required: false }, '');
    expect(JSON.parse(sent[0].body!)).toEqual({});
  });

  it('asks for the six digits before opening the platform, and sends nothing', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: verifiedCitizen }));
    const platform = fakePlatform({ code: 'c' });
    const failure = await finishRealName(client, platform, wechatVerification, '12').catch((e) => e);
    expect(explainIdentityFailure(failure)).toMatchObject({ text: '请填写短信中的 6 位验证码', restart: false });
    expect(platform.verifyRealName).not.toHaveBeenCalled();
    expect(sent).toHaveLength(0);
  });

  it('backing out of the platform step keeps the verification open and offers to try again', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: verifiedCitizen }));
    const failure = await finishRealName(client, fakePlatform(new RealNameCancelled()), wechatVerification, '123456').catch((e) => e);
    expect(explainIdentityFailure(failure)).toEqual({ text: '您没有完成平台的实名授权，认证未完成，可以重新发起', restart: false, retry: true });
    expect(sent).toHaveLength(0);
  });

  it.each([
    [error(422, 'IDENTITY_NOT_VERIFIED', '姓名与您账号的实名信息不一致，请核对后重试', { reason: 'name_mismatch' }), '姓名与您账号的实名信息不一致', true],
    [error(409, 'IDENTITY_TAKEN', '您的实名身份已绑定本平台的另一个账号，请用原账号登录'), '请用原账号登录', true],
    [error(429, 'RATE_LIMITED', '请求过于频繁'), '今天的实名认证次数已用完', true],
    [error(409, 'VERIFICATION_EXPIRED', '本次实名认证已超时，请重新发起'), '已超时', true],
    [error(409, 'IDENTITY_ALREADY_BOUND', '该账号已绑定其他实名身份，不能更换'), '窗口办理', true],
    [error(422, 'SMS_CODE_WRONG', '短信验证码不正确', { attempts_left: 3 }), '还可以再试 3 次', false],
    [error(422, 'SMS_CODE_WRONG', '短信验证码不正确', { attempts_left: 0 }), '本次认证已结束', true],
    [error(503, 'PLATFORM_UNAVAILABLE', '微信暂时无法核验'), '请稍后点「重试」', false],
  ])('explains %j with the next step', async (answer, words, restart) => {
    const { client } = recording(() => answer);
    const failure = await finishRealName(client, fakePlatform({ code: 'c' }), wechatVerification, '123456').catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    const explained = explainIdentityFailure(failure);
    expect(explained.text).toContain(words);
    expect(explained.restart).toBe(restart);
  });

  it('points an invalid ID number at its field', () => {
    const explained = explainIdentityFailure(new ApiError(422, 'INVALID_ID_NUMBER', '身份证号码校验位不正确'));
    expect(explained).toMatchObject({ field: 'idNumber', restart: false });
    expect(explained.text).toContain('末位可能是 X');
  });

  it('a network failure is a retry, not a restart', () => {
    expect(explainIdentityFailure(new NetworkError(null, async () => null))).toMatchObject({ retry: true, restart: false });
  });

  it('says an unverified citizen what real name opens, and each platform its button', () => {
    expect(realNameSummary({ ...verifiedCitizen, real_name_verified: false, name: null })).toMatchObject({ verified: false, title: '未实名认证' });
    expect(proofActionLabel(wechatVerification)).toBe('前往微信授权并完成认证');
    expect(proofActionLabel(alipayVerification)).toBe('开始刷脸认证');
  });
});

describe('platform real-name steps', () => {
  function wechatDeps() {
    let listener: ((info: AppShowInfo) => void) | null = null;
    const navigateToMiniProgram = vi.fn(async () => ({}));
    return {
      deps: {
        navigateToMiniProgram,
        onAppShow: (fn: (info: AppShowInfo) => void) => void (listener = fn),
        offAppShow: () => void (listener = null),
      },
      comeBack: (info: AppShowInfo) => listener?.(info),
      listening: () => listener !== null,
      navigateToMiniProgram,
    };
  }

  it("weapp opens WeChat's consent mini-program and takes extraData.code on the way back", async () => {
    const wechat = wechatDeps();
    const proof = wechatConsent(wechat.deps, wechatVerification.wechat!);
    expect(wechat.navigateToMiniProgram).toHaveBeenCalledWith({ appId: 'wx308bd2aeb83d3345', path: 'pages/realname/index' });
    wechat.comeBack({ referrerInfo: { appId: 'wx308bd2aeb83d3345', extraData: { code: 'consent-1' } } });
    await expect(proof).resolves.toBe('consent-1');
    expect(wechat.listening()).toBe(false);
  });

  it('weapp: coming back without a code (the person declined) is RealNameCancelled', async () => {
    const wechat = wechatDeps();
    const proof = wechatConsent(wechat.deps, wechatVerification.wechat!);
    wechat.comeBack({ referrerInfo: { appId: 'wx308bd2aeb83d3345', extraData: null } });
    await expect(proof).rejects.toBeInstanceOf(RealNameCancelled);
  });

  it('weapp adapter hands the code over as the proof', async () => {
    const wechat = wechatDeps();
    const adapter = weappAdapter({ ...wechat.deps, login: async () => ({ code: 'x' }), request: vi.fn() });
    const { client } = recording(() => ({ status: 500, body: null }));
    const proof = adapter.verifyRealName(client, wechatVerification);
    wechat.comeBack({ referrerInfo: { appId: 'wx308bd2aeb83d3345', extraData: { code: 'c2' } } });
    await expect(proof).resolves.toEqual({ code: 'c2' });
  });

  it("alipay starts face verification with the certify URL and id; '6001' is a cancel, '9000' done", async () => {
    const start = vi.fn(async () => '9000');
    await expect(faceVerify(start, alipayVerification.alipay!)).resolves.toBeUndefined();
    expect(start).toHaveBeenCalledWith({ url: 'https://openapi/certify?x=1', certifyId: 'cert-1' });
    await expect(faceVerify(async () => '6001', alipayVerification.alipay!)).rejects.toThrow('取消了刷脸认证');
    const adapter = alipayAdapter({ authCode: async () => 'a', request: vi.fn(), startAPVerify: start });
    const { client } = recording(() => ({ status: 500, body: null }));
    await expect(adapter.verifyRealName(client, alipayVerification)).resolves.toEqual({});
  });

  it("h5 in sim mode asks the person's consent, then takes the simulator's consent code for the kept openid", async () => {
    const kept = new Map([[SIM_OPENID_KEY, 'h5-abc']]);
    const storage = { get: (key: string) => kept.get(key) ?? null, set: (key: string, value: string) => void kept.set(key, value) };
    const askConsent = vi.fn(async () => true);
    const { client, sent } = recording(() => ({ status: 200, body: { code: 'sim-consent' } }));
    const adapter = h5Adapter({ simMode: true, storage, newOpenid: () => 'x', askConsent });
    await expect(adapter.verifyRealName(client, wechatVerification)).resolves.toEqual({ code: 'sim-consent' });
    expect(askConsent).toHaveBeenCalledOnce();
    expect(sent[0].url).toBe('/sim/wechat/real-name/consent');
    expect(JSON.parse(sent[0].body!)).toEqual({ openid: 'h5-abc' });
  });

  it('h5: declining the consent sends nothing', async () => {
    const storage = { get: () => 'h5-abc', set: () => {} };
    const { client, sent } = recording(() => ({ status: 200, body: { code: 'c' } }));
    const adapter = h5Adapter({ simMode: true, storage, newOpenid: () => 'x', askConsent: async () => false });
    await expect(adapter.verifyRealName(client, wechatVerification)).rejects.toBeInstanceOf(RealNameCancelled);
    expect(sent).toHaveLength(0);
  });

  it('h5 sim reads the last texted code for the phone', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: { items: [{ text: '验证码 111111' }, { text: '【临江】验证码 654321，15 分钟内有效' }] } }));
    const adapter = h5Adapter({ simMode: true, storage: { get: () => null, set: () => {} }, newOpenid: () => 'x', askConsent: async () => true });
    await expect(adapter.simTextedCode!(client, '13812345678')).resolves.toBe('654321');
    expect(sent[0].url).toBe('/sim/sms/messages?phone=13812345678');
  });
});

describe('elder mode', () => {
  function memory() {
    const kept = new Map<string, string>();
    return { kept, storage: { get: (key: string) => kept.get(key), set: (key: string, value: string) => void kept.set(key, value) } };
  }

  it('is off until switched on, remembered in storage, and told to every listener', () => {
    const { kept, storage } = memory();
    const mode = createElderMode(storage);
    const heard: boolean[] = [];
    const stop = mode.subscribe((on) => heard.push(on));
    expect(mode.isOn()).toBe(false);
    mode.set(true);
    expect(kept.get(ELDER_KEY)).toBe('1');
    // a new start (a reload) reads the same storage
    expect(createElderMode(storage).isOn()).toBe(true);
    stop();
    mode.set(false);
    expect(heard).toEqual([true]);
    expect(createElderMode(storage).isOn()).toBe(false);
  });

  it("marks H5's root as the switch says, from the first read on", () => {
    const { storage } = memory();
    storage.set(ELDER_KEY, '1');
    const classes = new Set<string>();
    const root = { toggle: (name: string, force: boolean) => (force ? classes.add(name) : classes.delete(name)) };
    const mode = createElderMode(storage, root);
    expect(classes.has(ELDER_ROOT_CLASS)).toBe(true);
    mode.set(false);
    expect(classes.has(ELDER_ROOT_CLASS)).toBe(false);
  });

  it('a storage that fails reads as off', () => {
    const mode = createElderMode({ get: () => { throw new Error('no storage'); }, set: () => {} });
    expect(mode.isOn()).toBe(false);
  });

  it("gives every page's root the elder class only when on", () => {
    expect(shellClass(true, 'me')).toBe('page-shell elder me');
    expect(shellClass(false)).toBe('page-shell');
  });
});

const grant: ProxyGrant = {
  id: 5,
  matter_id: 12,
  principal: { id: 3, name: '李华', id_number_masked: '110***********0012' },
  proxy: { id: 4, name: '王芳', id_number_masked: '320***********0021' },
  created_at: null,
  revoked_at: null,
  active: true,
};

describe('proxy grants', () => {
  it('loads the grants given and held, with each matter named once', async () => {
    const { client, sent } = recording((request) => {
      if (request.url.startsWith('/api/v1/me/proxies?received=true')) return { status: 200, body: { items: [{ ...grant, id: 6 }], total: 1, page: 1, page_size: 100 } };
      if (request.url.startsWith('/api/v1/me/proxies')) return { status: 200, body: { items: [grant], total: 1, page: 1, page_size: 100 } };
      return { status: 200, body: { id: 12, name: '城乡居民养老保险参保登记' } };
    });
    const lists = await loadProxies(client);
    expect(lists.given.map((g) => g.id)).toEqual([5]);
    expect(lists.received.map((g) => g.id)).toEqual([6]);
    expect(lists.matterNames).toEqual({ 12: '城乡居民养老保险参保登记' });
    expect(sent.filter((r) => r.url === '/api/v1/matters/12')).toHaveLength(1);
  });

  it('grants with the matter, trimmed name and upper-cased ID number; refuses an unfinished form unsent', async () => {
    const { client, sent } = recording(() => ({ status: 201, body: grant }));
    await grantProxy(client, { matterId: 12, name: ' 王芳 ', idNumber: '32010519900101002x' });
    expect(JSON.parse(sent[0].body!)).toEqual({ matter_id: 12, name: '王芳', id_number: '32010519900101002X' });
    const failure = await grantProxy(client, { matterId: null, name: '王芳', idNumber: '32010519900101002X' }).catch((e) => e);
    expect(explainGrantFailure(failure).text).toBe('请先选择授权代办的事项');
    expect(sent).toHaveLength(1);
    expect(checkGrantForm({ matterId: 1, name: '王芳', idNumber: '123' })).toBe('代办人身份证号码应为 18 位');
  });

  it('revokes by id', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: { ...grant, active: false } }));
    await expect(revokeProxy(client, 5)).resolves.toMatchObject({ active: false });
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/api/v1/me/proxies/5/revoke' });
  });

  it('explains each refusal with the next step', () => {
    expect(explainGrantFailure(new ApiError(404, 'PROXY_NOT_FOUND', '未找到该实名用户，请确认对方已在本平台完成实名认证')).text).toContain('请对方先登录本平台完成实名');
    expect(explainGrantFailure(new ApiError(403, 'REAL_NAME_REQUIRED', '请先完成实名认证')).text).toContain('我的 → 实名认证');
    expect(explainGrantFailure(new ApiError(422, 'CANNOT_PROXY_SELF', '不能授权自己代办')).text).toContain('本人办理无需授权');
  });

  it('shows the other party masked and whether the grant holds', () => {
    expect(describeGrant(grant, 'given')).toEqual({ who: '王芳（320***********0021）', state: '有效' });
    expect(describeGrant({ ...grant, active: false }, 'received')).toEqual({ who: '李华（110***********0012）', state: '已撤销' });
  });
});

const figures = {
  department_id: 1,
  department_name: '人社局',
  satisfaction_rate: 0.9567,
  cases_on_time_rate: 0.75,
  online_capable_share: null,
  zero_visit_share: 0.1,
  total_ratings: 30,
  bad_ratings: 1,
  cases_decided: 12,
  cases_average_days: 3.5,
  cases_overdue_now: 0,
  complaints: 2,
  rectifications: 1,
} as unknown as DepartmentFigures;

describe('public figures', () => {
  it('draws rates as percentages with a word for how they stand, nothing counted as no data', () => {
    expect(percent(0.9567)).toBe('95.7%');
    expect(percent(null)).toBe('暂无数据');
    expect(barsOf(figures).map((bar) => [bar.label, bar.value, bar.tone])).toEqual([
      ['满意率', '95.7%', 'good'],
      ['按时办结率', '75.0%', 'poor'],
      ['网上可办率', '暂无数据', 'none'],
      ['零跑动事项占比', '10.0%', 'poor'],
    ]);
  });

  it("a hall's bars add kept appointments (1 - no-shows) and its queue line", () => {
    const hall = { ...figures, hall_id: 2, hall_name: '市民中心', no_show_rate: 0.05, average_wait_minutes: 12.5, queue_served: 40 } as unknown as HallFigures;
    expect(barsOf(hall).slice(-1)[0]).toMatchObject({ label: '预约守约率', value: '95.0%' });
    expect(countsOf(hall).slice(-1)[0]).toBe('排队平均等候 12.5 分钟，服务 40 人次');
  });

  it('loads both reports, best satisfaction first and unrated last', async () => {
    const { client, sent } = recording((request) => ({
      status: 200,
      body: {
        from: '2026-11-01',
        to: '2026-11-30',
        generated_at: 'x',
        items: request.url.endsWith('departments')
          ? [{ ...figures, department_id: 1, satisfaction_rate: null }, { ...figures, department_id: 2, satisfaction_rate: 0.8 }, { ...figures, department_id: 3, satisfaction_rate: 0.99 }]
          : [],
      },
    }));
    const report = await loadFigures(client);
    expect(report.departments.map((d) => d.department_id)).toEqual([3, 2, 1]);
    expect(report.from).toBe('2026-11-01');
    expect(sent.map((r) => r.url).sort()).toEqual(['/api/v1/stats/departments', '/api/v1/stats/halls']);
  });
});

describe('session', () => {
  it('logout ends the token at the server and here, even when the server refuses', async () => {
    const tokens = memoryTokenStore('tok');
    const sent: TransportRequest[] = [];
    const client = createClient({ baseUrl: '', tokens, transport: async (request) => (sent.push(request), { status: 500, body: null }) });
    await expect(logout(client)).rejects.toBeInstanceOf(ApiError);
    expect(tokens.get()).toBeNull();
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/api/v1/auth/logout' });
    expect(sent[0].headers.Authorization).toBe('Bearer tok');
  });

  it('names the platforms logged in with', () => {
    expect(channelsText(verifiedCitizen)).toBe('已登录（微信）');
    expect(channelsText({ ...verifiedCitizen, channels: ['wechat', 'alipay'] })).toBe('已登录（微信、支付宝）');
  });
});
