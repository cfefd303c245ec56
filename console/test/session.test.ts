import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { apiErrorText, loginErrorText } from '../src/session/errors';
import { mayOpen, menuItemOf, menusFor, roleLabel } from '../src/session/roles';
import { departmentName, sessionService } from '../src/session/session';

function scripted(...answers: Array<{ status: number; body: unknown }>) {
  const sent: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    sent.push(request);
    const answer = answers.shift();
    if (!answer) throw new TypeError('Failed to fetch');
    return answer;
  };
  return { transport, sent };
}

const me = { id: 7, username: 'wangmin', name: '王敏', roles: ['clerk'], department_id: 2 };

describe('menusFor', () => {
  it('gives a clerk the case queue, the window and filing but not account management', () => {
    const paths = menusFor(['clerk']).map((item) => item.path);
    expect(paths).toEqual(['/', '/cases', '/filing', '/window', '/tickets', '/alerts']);
    expect(paths).not.toContain('/admin/staff');
    expect(paths).not.toContain('/supervision');
  });

  it('gives an approver no window and no filing', () => {
    const paths = menusFor(['approver']).map((item) => item.path);
    expect(paths).not.toContain('/window');
    expect(paths).not.toContain('/filing');
    expect(paths).toContain('/cases');
  });

  it('joins the menus of several roles once each, in menu order', () => {
    const paths = menusFor(['admin', 'clerk']).map((item) => item.path);
    expect(paths).toEqual([
      '/',
      '/cases',
      '/filing',
      '/window',
      '/tickets',
      '/alerts',
      '/supervision',
      '/admin/audit',
      '/admin/deliveries',
      '/admin/payments',
      '/admin/matters',
      '/admin/halls',
      '/admin/calendar',
      '/admin/staff',
    ]);
  });

  it('gives an unknown role only what everyone sees', () => {
    expect(menusFor(['visitor']).map((item) => item.path)).toEqual(['/', '/alerts']);
  });

  it('names roles in Chinese', () => {
    expect(roleLabel(['clerk', 'approver'])).toBe('受理窗口、审批人');
  });
});

describe('loginErrorText', () => {
  it('explains a wrong password and what happens after several', () => {
    const text = loginErrorText(new ApiError(401, 'INVALID_CREDENTIALS', '用户名或密码错误'));
    expect(text).toContain('用户名或密码错误');
    expect(text).toContain('锁定');
  });

  it('says until when a locked account is locked, in Beijing time', () => {
    const error = new ApiError(429, 'ACCOUNT_LOCKED', '锁定', 'r', { locked_until: '2026-11-30T13:45:00+00:00' });
    expect(loginErrorText(error)).toContain('锁定至 21:45');
  });

  it('still explains a lock without a time', () => {
    expect(loginErrorText(new ApiError(429, 'ACCOUNT_LOCKED', '锁定'))).toContain('临时锁定');
  });

  it('tells a network failure apart', () => {
    expect(loginErrorText(new NetworkError(new TypeError('x'), async () => null))).toContain('无法连接服务器');
  });

  it('explains a 403 with who to ask', () => {
    expect(apiErrorText(new ApiError(403, 'FORBIDDEN', '无权操作'))).toContain('联系本部门管理员');
  });
});

describe('sessionService', () => {
  it('logs in without a token, keeps the new one and asks who it is', async () => {
    const { transport, sent } = scripted(
      { status: 200, body: { token: 'tok', expires_in: 3600, staff: { id: 7, name: '王敏', roles: ['clerk'], department_id: 2 } } },
      { status: 200, body: me },
    );
    const tokens = memoryTokenStore('stale');
    const service = sessionService(createClient({ baseUrl: '', transport, tokens }));
    await expect(service.login('wangmin', 'pw')).resolves.toEqual(me);
    expect(sent[0].headers.Authorization).toBeUndefined();
    expect(sent[1].headers.Authorization).toBe('Bearer tok');
    expect(tokens.get()).toBe('tok');
  });

  it('restores nobody without a token, and nobody when the token expired', async () => {
    const none = sessionService(createClient({ baseUrl: '', transport: scripted().transport, tokens: memoryTokenStore() }));
    await expect(none.restore()).resolves.toBeNull();
    const expired = scripted({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: '请先登录', request_id: 'r' } } });
    const tokens = memoryTokenStore('old');
    const service = sessionService(createClient({ baseUrl: '', transport: expired.transport, tokens }));
    await expect(service.restore()).resolves.toBeNull();
    expect(tokens.get()).toBeNull();
  });

  it('forgets the token on logout even when the server cannot be reached', async () => {
    const tokens = memoryTokenStore('tok');
    const service = sessionService(createClient({ baseUrl: '', transport: scripted().transport, tokens }));
    await service.logout();
    expect(tokens.get()).toBeNull();
  });
});

describe('departmentName', () => {
  it('names the department, and says 全市 for staff of none', async () => {
    const { transport } = scripted({ status: 200, body: { items: [{ id: 2, code: 'RS', name: '临江市人力资源和社会保障局', short_name: '人社', phone: '' }], total: 1, page: 1, page_size: 100 } });
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') });
    await expect(departmentName(client, 2)).resolves.toBe('临江市人力资源和社会保障局');
    await expect(departmentName(client, null)).resolves.toBe('全市（不限部门）');
  });
});

describe('mayOpen', () => {
  it('keeps a clerk out of account management and its sub-pages', () => {
    expect(mayOpen('/admin/staff', ['clerk'])).toBe(false);
    expect(mayOpen('/admin/staff/12', ['clerk'])).toBe(false);
    expect(menuItemOf('/admin/staff/12')?.label).toBe('账号管理');
  });

  it('lets a clerk open a case and the pages everyone has', () => {
    expect(mayOpen('/cases/7', ['clerk'])).toBe(true);
    expect(mayOpen('/alerts', ['clerk'])).toBe(true);
    expect(mayOpen('/', ['clerk'])).toBe(true);
  });
});
