import { describe, expect, it, vi } from 'vitest';
import { ApiError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { alipayAdapter, alipayOutcome, alipaySubscribeResults } from '../src/platform/alipay';
import { SIM_CHANNEL_KEY, h5Adapter } from '../src/platform/h5';
import type { PaymentOrder, PickedFile, PlatformAdapter } from '../src/platform/types';
import { wechatPay, weappAdapter } from '../src/platform/weapp';
import {
  MAX_UPLOAD_BYTES,
  caseButtons,
  checkFile,
  checkForm,
  formBody,
  isIdNumber,
  loadCase,
  submitCase,
  uploadMaterial,
} from '../src/services/cases';
import type { Case, FormField } from '../src/services/cases';
import { checkFeedback } from '../src/services/feedback';
import { messageLink } from '../src/services/inbox';
import { payCase, pollPayment } from '../src/services/payments';
import { checkRating } from '../src/services/ratings';
import { subscribe, templateIdsFor } from '../src/services/subscribe';

function recording(answer: (request: TransportRequest) => { status: number; body: unknown }) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    return answer(request);
  };
  return { transport, sent, client: createClient({ baseUrl: '', transport, tokens: memoryTokenStore('tok') }) };
}

const error = (status: number, code: string, message: string, details?: unknown) => ({ status, body: { error: { code, message, request_id: 'r', details } } });

const order = (overrides: Partial<PaymentOrder> = {}): PaymentOrder => ({
  order_no: 'P20261201000001',
  case_id: 7,
  channel: 'wechat',
  amount_fen: 1250,
  status: 'pending',
  refunded_fen: 0,
  created_at: '2026-12-01T10:00:00+08:00',
  expires_at: '2026-12-01T10:30:00+08:00',
  paid_at: null,
  pay_params: { appId: 'wx1', timeStamp: '1', nonceStr: 'n', package: 'prepay_id=1', signType: 'RSA', paySign: 's' },
  ...overrides,
});

const pdf = (overrides: Partial<PickedFile> = {}): PickedFile => ({ path: 'tmp/a.pdf', name: '身份证.pdf', size: 2048, type: 'application/pdf', ...overrides });

const noSleep = async () => {};

describe('case buttons come from what the server allows', () => {
  const base = { status: 'submitted' as Case['status'], allowed_actions: [] as string[], can_pay: false, can_rate: false };

  it('a supplement request shows 补正 (the submit move), not 继续填写', () => {
    expect(caseButtons({ ...base, status: 'supplement_required', allowed_actions: ['submit', 'withdraw'] })).toEqual(['supplement', 'withdraw']);
    expect(caseButtons({ ...base, status: 'draft', allowed_actions: ['submit', 'withdraw'] })).toEqual(['continue', 'withdraw']);
  });

  it('pay and rate only when the server says so', () => {
    expect(caseButtons({ ...base, status: 'accepted', can_pay: true })).toEqual(['pay']);
    expect(caseButtons({ ...base, status: 'approved', can_rate: true })).toEqual(['rate']);
    // an ended case the server no longer lets this viewer rate (a proxy, or rated): no button
    expect(caseButtons({ ...base, status: 'approved' })).toEqual([]);
  });
});

describe('files are checked before any byte is sent', () => {
  it('refuses other types and files past the limit, in words that say what to do', () => {
    expect(checkFile(pdf())).toBeNull();
    expect(checkFile(pdf({ name: 'scan.PNG', type: '' }))).toBeNull();
    expect(checkFile(pdf({ name: '合同.docx', type: 'application/msword' }))).toContain('不是 PDF、JPG 或 PNG');
    expect(checkFile(pdf({ size: MAX_UPLOAD_BYTES + 1 }))).toContain('超过 10 MB');
  });

  it('a refused file never reaches the platform upload; a good one goes with material_id and the token', async () => {
    const { client } = recording(() => ({ status: 500, body: null }));
    const upload = vi.fn(async () => ({ status: 201, body: { id: 3, material_id: 11 } }));
    const platform = { upload } as unknown as PlatformAdapter;
    await expect(uploadMaterial(client, platform, 7, 11, pdf({ name: 'a.exe', type: '' }))).rejects.toMatchObject({ code: 'FILE_REFUSED' });
    expect(upload).not.toHaveBeenCalled();
    await uploadMaterial(client, platform, 7, 11, pdf(), 'https://api');
    expect(upload).toHaveBeenCalledWith(expect.objectContaining({ url: 'https://api/api/v1/cases/7/materials', fields: { material_id: '11' }, headers: { Authorization: 'Bearer tok' } }));
  });

  it("the server's refusal of an upload is an ApiError with its Chinese message", async () => {
    const { client } = recording(() => ({ status: 500, body: null }));
    const platform = { upload: async () => error(415, 'UNSUPPORTED_FILE_TYPE', '仅支持 PDF、JPEG、PNG 文件') } as unknown as PlatformAdapter;
    await expect(uploadMaterial(client, platform, 7, 11, pdf())).rejects.toMatchObject({ status: 415, message: '仅支持 PDF、JPEG、PNG 文件' });
  });
});

describe('application form', () => {
  const fields: FormField[] = [
    { name: 'name', label: '姓名', type: 'text', required: true, max_length: 20 },
    { name: 'id_number', label: '身份证号', type: 'id_number', required: true, prefill: 'id_number' },
    { name: 'count', label: '份数', type: 'number', required: false },
  ];

  it('checks the ID number check digit, but lets the masked pre-filled value through unchanged', () => {
    expect(isIdNumber('11010119900307663X')).toBe(false);
    expect(isIdNumber('110101199003076638')).toBe(false);
    expect(isIdNumber('11010519491231002X')).toBe(true);
    expect(checkForm(fields, { name: '李华', id_number: '110***********002X' })).toEqual({});
    expect(checkForm(fields, { name: '', id_number: '110101199003076638' })).toEqual({
      name: '请填写姓名',
      id_number: '身份证号码有误，请核对 18 位号码（末位可为 X）',
    });
    expect(formBody(fields, { name: ' 李华 ', id_number: '110***********002X', count: '2' })).toEqual({ name: '李华', id_number: '110***********002X', count: 2 });
  });

  it('MATERIALS_MISSING becomes the missing materials by name', async () => {
    const item = { id: 7, version: 2, materials: [{ id: 11, name: '居民身份证' }, { id: 12, name: '申请表' }] } as unknown as Case;
    const { client, sent } = recording(() => error(422, 'MATERIALS_MISSING', '缺少必需的申请材料', { missing: [12] }));
    await expect(submitCase(client, item)).resolves.toEqual({ missing: [{ id: 12, name: '申请表' }] });
    expect(JSON.parse(sent[0].body!)).toEqual({ version: 2 });
    const named = recording(() => error(422, 'MATERIALS_MISSING', '缺少', { missing: [11], materials: [{ id: 11, name: '居民身份证', reason: 'required' }] }));
    await expect(submitCase(named.client, item)).resolves.toEqual({ missing: [{ id: 11, name: '居民身份证' }] });
  });

  it("another citizen's case (404) is null: the page says 未找到该办件; other failures still throw", async () => {
    await expect(loadCase(recording(() => error(404, 'CASE_NOT_FOUND', '办件不存在')).client, 9)).resolves.toBeNull();
    await expect(loadCase(recording(() => error(503, 'SERVICE_UNAVAILABLE', '忙')).client, 9)).rejects.toBeInstanceOf(ApiError);
  });
});

describe('payments', () => {
  it('polls until the server says paid', async () => {
    let asked = 0;
    const { client } = recording(() => ({ status: 200, body: order({ status: ++asked < 3 ? 'pending' : 'paid' }) }));
    const sleep = vi.fn(noSleep);
    await expect(pollPayment(client, 'P1', { sleep, intervalMs: 5 })).resolves.toMatchObject({ status: 'paid' });
    expect(asked).toBe(3);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('gives up after the attempts, still pending', async () => {
    const { client, sent } = recording(() => ({ status: 200, body: order() }));
    await expect(pollPayment(client, 'P1', { attempts: 4, sleep: noSleep })).resolves.toMatchObject({ status: 'pending' });
    expect(sent).toHaveLength(4);
  });

  it("Alipay's 8000 and 6004 ask the server; 9000 paid; 6001 the user left", () => {
    expect(alipayOutcome('8000')).toEqual({ kind: 'ask_server' });
    expect(alipayOutcome('6004')).toEqual({ kind: 'ask_server' });
    expect(alipayOutcome('9000')).toEqual({ kind: 'paid' });
    expect(alipayOutcome('6001')).toEqual({ kind: 'cancelled' });
    expect(alipayOutcome('4000').kind).toBe('failed');
  });

  it('an Alipay 6004 is paid when the server says so, and the subscribe request runs as the cashier closes', async () => {
    const answers = [order({ channel: 'alipay', pay_params: { trade_no: 'T1' } }), order({ channel: 'alipay', status: 'paid' })];
    const { client, sent } = recording(() => ({ status: 200, body: answers.shift() }));
    const tradePay = vi.fn(async () => ({ resultCode: '6004' }));
    const adapter = alipayAdapter({ authCode: async () => 'a', request: vi.fn(), tradePay });
    const afterCashier = vi.fn(async () => 1);
    const result = await payCase(client, adapter, 7, 'alipay', { sleep: noSleep }, afterCashier);
    expect(result).toMatchObject({ kind: 'paid' });
    expect(tradePay).toHaveBeenCalledWith('T1');
    expect(afterCashier).toHaveBeenCalledOnce();
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v1/cases/7/payments', 'GET /api/v1/payments/P20261201000001']);
  });

  it('a cancelled cashier is not polled; a refusal is explained', async () => {
    const { client, sent } = recording(() => ({ status: 201, body: order({ channel: 'alipay', pay_params: { trade_no: 'T1' } }) }));
    const adapter = alipayAdapter({ authCode: async () => 'a', request: vi.fn(), tradePay: async () => ({ resultCode: '6001' }) });
    await expect(payCase(client, adapter, 7, 'alipay')).resolves.toMatchObject({ kind: 'cancelled' });
    expect(sent).toHaveLength(1);
    const refused = recording(() => error(409, 'NOTHING_TO_PAY', '无需缴费'));
    await expect(payCase(refused.client, adapter, 7, 'alipay')).resolves.toEqual({ kind: 'failed', reason: '该办件当前没有待缴费用（可能已缴清），请刷新查看' });
  });

  it('wx.requestPayment gets exactly the five fields; "fail cancel" is a cancel', async () => {
    const requestPayment = vi.fn(async () => ({}));
    await expect(wechatPay(requestPayment, order().pay_params)).resolves.toEqual({ kind: 'paid' });
    expect(requestPayment).toHaveBeenCalledWith({ timeStamp: '1', nonceStr: 'n', package: 'prepay_id=1', signType: 'RSA', paySign: 's' });
    await expect(wechatPay(async () => Promise.reject({ errMsg: 'requestPayment:fail cancel' }), order().pay_params)).resolves.toEqual({ kind: 'cancelled' });
    await expect(wechatPay(requestPayment, { appId: 'x' })).resolves.toMatchObject({ kind: 'failed' });
  });

  it("H5 in sim mode pays at the simulator's cashier of the order's channel, then asks the server", async () => {
    const kept = new Map<string, string>();
    const adapter = h5Adapter({ simMode: true, storage: { get: (k) => kept.get(k) ?? null, set: (k, v) => void kept.set(k, v) }, newOpenid: () => 'u1' });
    const { client, sent } = recording(() => ({ status: 200, body: { delivered: true } }));
    await expect(adapter.pay(order({ channel: 'alipay' }), client)).resolves.toEqual({ kind: 'ask_server' });
    await adapter.pay(order(), client);
    expect(sent.map((r) => [r.url, JSON.parse(r.body!)])).toEqual([
      ['/sim/alipay/pay', { order_no: 'P20261201000001' }],
      ['/sim/wechatpay/pay', { order_no: 'P20261201000001' }],
    ]);
    expect(adapter.payChannels()).toEqual(['wechat', 'alipay']);
    kept.set(SIM_CHANNEL_KEY, 'alipay');
    expect(adapter.payChannels()).toEqual(['alipay', 'wechat']);
    const offline = h5Adapter({ simMode: false, storage: { get: () => null, set: () => {} }, newOpenid: () => 'x' });
    await expect(offline.pay(order(), client)).resolves.toMatchObject({ kind: 'failed' });
  });
});

describe('subscribe messages', () => {
  it("fetches the channel's template ids, asks the platform, and sends back only their results", async () => {
    const { client, sent } = recording((request) =>
      request.url.startsWith('/api/v1/subscriptions/templates')
        ? { status: 200, body: { case_progress: { template_id: 'T1', fields: [] }, payment: { template_id: 'T2', fields: [] } } }
        : { status: 200, body: [] },
    );
    const requestSubscribeMessage = vi.fn(async () => ({ errMsg: 'requestSubscribeMessage:ok', T1: 'accept', T2: 'reject' }));
    const adapter = weappAdapter({ login: async () => ({ code: 'c' }), request: vi.fn(), requestSubscribeMessage });
    const ids = await templateIdsFor(client, adapter, ['case_progress', 'payment', 'unknown']);
    expect(ids).toEqual(['T1', 'T2']);
    await expect(subscribe(client, adapter, ids)).resolves.toBe(1);
    expect(requestSubscribeMessage).toHaveBeenCalledWith({ tmplIds: ['T1', 'T2'] });
    expect(sent[0].url).toBe('/api/v1/subscriptions/templates?channel=wechat');
    expect(JSON.parse(sent[1].body!)).toEqual({ channel: 'wechat', results: { T1: 'accept', T2: 'reject' } });
  });

  it("Alipay's answer lists accepted ids; a refused dialog never throws", async () => {
    expect(alipaySubscribeResults(['A', 'B'], { result: { subscribeEntityIds: ['B'] } })).toEqual({ A: 'reject', B: 'accept' });
    const { client } = recording(() => ({ status: 200, body: [] }));
    const adapter = alipayAdapter({ authCode: async () => 'a', request: vi.fn(), requestSubscribeMessage: async () => Promise.reject(new Error('no')) });
    await expect(subscribe(client, adapter, ['A'])).resolves.toBe(0);
  });
});

describe('ratings, feedback, inbox', () => {
  it('1 and 2 need a reason; other scores do not', () => {
    expect(checkRating(0, '')).toBe('请选择满意程度');
    expect(checkRating(2, '  ')).toContain('请写明原因');
    expect(checkRating(1, '等了很久')).toBeNull();
    expect(checkRating(5, '')).toBeNull();
  });

  it('feedback needs a kind and words', () => {
    expect(checkFeedback('consult', ' ')).toContain('请写下');
    expect(checkFeedback('praise', '好')).toContain('请选择');
    expect(checkFeedback('complaint', '窗口排队太久')).toBeNull();
  });

  it('a message about a case links to its detail page', () => {
    expect(messageLink({ subject: { type: 'case', id: 42 } })).toBe('/pages-cases/detail/index?id=42');
    expect(messageLink({ subject: { type: 'ticket', id: 5 } })).toBe('/pages-cases/feedback/detail/index?id=5');
    expect(messageLink({ subject: { type: 'payment', id: 9 } })).toBeNull();
  });
});

describe('H5 as the Alipay entry', () => {
  it('logs in at /sim/alipay/auth_code with a kept Alipay-shaped user id, and subscribes through the simulator', async () => {
    const kept = new Map<string, string>([[SIM_CHANNEL_KEY, 'alipay']]);
    const adapter = h5Adapter({ simMode: true, storage: { get: (k) => kept.get(k) ?? null, set: (k, v) => void kept.set(k, v) }, newOpenid: () => 'h5-x' });
    const { client, sent } = recording((request) =>
      request.url === '/sim/alipay/auth_code'
        ? { status: 200, body: { auth_code: 'ac' } }
        : request.url === '/sim/alipay/subscribe'
          ? { status: 200, body: { results: { A: 'accept' } } }
          : { status: 200, body: { token: 't', citizen: {} } },
    );
    await adapter.login(client);
    const userId = JSON.parse(sent[0].body!).user_id;
    expect(userId).toMatch(/^2088\d{12}$/);
    expect(sent[1].url).toBe('/api/v1/auth/alipay');
    expect(adapter.subscribeChannel).toBe('alipay');
    await expect(adapter.requestSubscribe(['A'], client)).resolves.toEqual({ A: 'accept' });
    expect(JSON.parse(sent[2].body!)).toEqual({ user_id: userId, template_ids: ['A'] });
  });
});

describe('ticket states', () => {
  it('a bad rating’s open ticket waits for the call-back; feedback just waits', async () => {
    const { ticketStatusText } = await import('../src/services/ratings');
    expect(ticketStatusText('open', 'rectification')).toBe('待回访整改');
    expect(ticketStatusText('open', 'consult')).toBe('待处理');
    expect(ticketStatusText('fixed', 'rectification')).toBe('已整改，待您评价');
  });
});
