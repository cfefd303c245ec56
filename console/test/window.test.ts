import { describe, expect, it } from 'vitest';
import { ApiError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import { queueErrorText, queueService, servingAt, statusName, windowChoices, windowNumbers } from '../src/window/queue';
import type { Queue } from '../src/window/queue';
import { announcementsBetween, recentCalls, speak, speechText } from '../src/window/screen';

function queue(serving: Array<[string, number, number?]>, waiting = 3): Queue {
  return {
    hall_id: 1,
    date: '2026-12-01',
    waiting,
    waiting_appointments: 1,
    waiting_walk_ins: waiting - 1,
    serving: serving.map(([number, window, recalls], index) => ({ id: index + 1, number, window, called_at: '2026-12-01T01:00:00Z', recalls: recalls ?? 0 })),
    queue_served: 0,
    queue_skipped: 0,
    average_wait_minutes: null,
    average_serve_minutes: null,
  };
}

describe('announcementsBetween', () => {
  it('announces nothing on the first poll, so a screen switched on late does not read out every window', () => {
    expect(announcementsBetween(null, queue([['A001', 1], ['B002', 2]]))).toEqual([]);
  });

  it('announces a number newly serving at its window', () => {
    const before = queue([['A001', 1]]);
    const after = queue([['A001', 1], ['A012', 3]]);
    expect(announcementsBetween(before, after)).toEqual([{ number: 'A012', window: 3, reason: 'called' }]);
  });

  it('announces a recalled number again when its recall count grows, and one moved to another window', () => {
    const before = queue([['A001', 1, 0], ['B003', 2, 0]]);
    const after = queue([['A001', 1, 1], ['B003', 4, 0]]);
    expect(announcementsBetween(before, after)).toEqual([
      { number: 'A001', window: 1, reason: 'recalled' },
      { number: 'B003', window: 4, reason: 'recalled' },
    ]);
  });

  it('stays quiet when nothing changed or a number was finished or skipped', () => {
    const before = queue([['A001', 1], ['B003', 2]]);
    expect(announcementsBetween(before, queue([['A001', 1], ['B003', 2]], 2))).toEqual([]);
    expect(announcementsBetween(before, queue([['B003', 2]]))).toEqual([]);
  });
});

describe('speech', () => {
  it('says the number and the window the way the hall does', () => {
    expect(speechText({ number: 'A012', window: 3 })).toBe('请 A012 号到 3 号窗口');
    expect(speechText({ number: 'B001', window: null })).toBe('请 B001 号到窗口办理');
  });

  it('speaks twice in Chinese where speech synthesis exists', () => {
    const spoken: Array<{ text: string; lang: string }> = [];
    class FakeUtterance {
      lang = '';
      rate = 1;
      constructor(public text: string) {}
    }
    const ok = speak('请 A012 号到 3 号窗口', { speak: (u) => spoken.push({ text: u.text, lang: u.lang }) }, FakeUtterance as never);
    expect(ok).toBe(true);
    expect(spoken).toEqual([
      { text: '请 A012 号到 3 号窗口', lang: 'zh-CN' },
      { text: '请 A012 号到 3 号窗口', lang: 'zh-CN' },
    ]);
  });

  it('reports false instead of failing on a browser without speech synthesis', () => {
    expect(speak('请 A012 号到 3 号窗口', undefined, undefined)).toBe(false);
  });

  it('keeps the newest calls first, a few of them', () => {
    const old = [{ number: 'A001', window: 1, reason: 'called' as const }];
    const latest = [
      { number: 'A002', window: 2, reason: 'called' as const },
      { number: 'A003', window: 3, reason: 'called' as const },
    ];
    expect(recentCalls(old, latest, 2).map((item) => item.number)).toEqual(['A003', 'A002']);
  });
});

describe('queue service', () => {
  function recording(...answers: Array<{ status: number; body: unknown }>) {
    const sent: TransportRequest[] = [];
    const transport: Transport = async (request) => {
      sent.push(request);
      return answers.shift() ?? { status: 500, body: null };
    };
    return { client: createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') }), sent };
  }

  it('calls the next number for my window and recalls it to my window', async () => {
    const ticket = { id: 9, number: 'A012', hall_id: 4, kind: 'appointment', status: 'called', window: 3, ahead: 0, issued_at: '' };
    const { client, sent } = recording({ status: 200, body: ticket }, { status: 200, body: ticket });
    const service = queueService(client);
    expect((await service.callNext(4, 3)).number).toBe('A012');
    await service.act(9, 'recall', 3);
    expect(sent.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', '/api/v1/staff/halls/4/call-next', '{"window":3}'],
      ['POST', '/api/v1/staff/queue-tickets/9/recall', '{"window":3}'],
    ]);
  });

  it('checks in by the code as typed, trimmed', async () => {
    const { client, sent } = recording({ status: 200, body: { ticket: {}, appointment_id: 1 } });
    await queueService(client).checkIn('  7K3Q9M ');
    expect(sent[0].body).toBe('{"code":"7K3Q9M"}');
  });
});

describe('queue errors and names', () => {
  it('explains each code with the next step', () => {
    expect(queueErrorText(new ApiError(409, 'QUEUE_EMPTY', '当前没有等候的号'))).toContain('有群众签到或取号后再叫号');
    // Others wait, but not for this window: said apart from an empty hall.
    const forOthers = new ApiError(409, 'QUEUE_EMPTY', '没有本窗口可办理的等候号', null, { waiting_in_hall: 4 });
    expect(queueErrorText(forOthers)).toContain('大厅还有 4 人在等其他窗口');
    expect(queueErrorText(new ApiError(404, 'APPOINTMENT_NOT_FOUND', '预约不存在'))).toContain('核对');
    expect(queueErrorText(new ApiError(409, 'CHECKIN_NOT_OPEN', '只能在预约当天签到'))).toContain('只能在预约当天签到');
    expect(queueErrorText(new ApiError(409, 'ILLEGAL_TRANSITION', 'x'))).toContain('刷新');
  });

  it('names statuses in Chinese and lists the hall windows', () => {
    expect(statusName('no_show')).toBe('未到');
    expect(statusName('skipped')).toBe('已过号');
    expect(windowNumbers({ windows: 3 })).toEqual([1, 2, 3]);
    expect(windowNumbers(undefined)).toEqual([]);
  });

  it("lists a hall's own windows with whom they serve, a closed one not selectable", () => {
    const window = (number: number, name: string, department_id: number | null, matter_ids: number[], open = true) => ({
      id: number,
      hall_id: 1,
      number,
      name,
      department_id,
      matter_ids,
      open,
    });
    const hall = {
      windows: 3,
      service_windows: [window(1, '综合受理窗口', null, []), window(3, '出入境窗口', 7, [4]), window(5, '帮办代办窗口', null, [], false)],
    };
    expect(windowChoices(hall, (id) => (id === 7 ? '公安' : '?'))).toEqual([
      { value: 1, label: '1 号窗口 · 综合受理窗口 · 综合窗口（所有部门）', disabled: false },
      { value: 3, label: '3 号窗口 · 出入境窗口 · 公安 · 限 1 个事项', disabled: false },
      { value: 5, label: '5 号窗口 · 帮办代办窗口 · 综合窗口（所有部门）（已关闭）', disabled: true },
    ]);
    // A hall without windows set up: numbered by its count.
    expect(windowChoices({ windows: 2, service_windows: [] }, () => '')).toEqual([
      { value: 1, label: '1 号窗口', disabled: false },
      { value: 2, label: '2 号窗口', disabled: false },
    ]);
  });
});

describe('servingAt', () => {
  it('finds the number my window is serving after a reload, and none for an idle window', () => {
    const now = queue([['A001', 1], ['B004', 3]]);
    expect(servingAt(now, 3)).toMatchObject({ id: 2, number: 'B004', status: 'called', window: 3, hall_id: 1 });
    expect(servingAt(now, 2)).toBeNull();
  });
});
