import { describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import {
  book,
  dayLabel,
  explainBookingError,
  groupSlots,
  standingNotice,
  seatsText,
  slotLabel,
  ticketStatusText,
  upcomingAppointments,
} from '../src/services/booking';
import type { Appointment, Slot } from '../src/services/booking';
import { feeSummary, materialForm, yuan } from '../src/services/catalog';
import { createPoller } from '../src/services/poller';
import type { Timers } from '../src/services/poller';
import { qrMatrix, qrRuns } from '../src/services/qr';
import { buildTodos, caseTodo } from '../src/services/todos';
import type { CaseSummary } from '../src/services/todos';

function slot(id: number, hall: number, date: string, start: string, remaining: number): Slot {
  return {
    id,
    hall_id: hall,
    matter_id: 7,
    date,
    start: `${date}T${start}:00+08:00`,
    end: `${date}T${start.slice(0, 3)}30:00+08:00`,
    capacity: 5,
    remaining,
    booking_closes_at: `${date}T${start}:00+08:00`,
  };
}

function appointment(id: number, status: Appointment['status'], start: string, end: string): Appointment {
  return {
    id,
    status,
    code: 'ABCD2345',
    matter_id: 7,
    hall_id: 1,
    slot: { id, hall_id: 1, start, end },
    cancel_closes_at: start,
    created_at: start,
    ticket_number: null,
    allowed_actions: status === 'booked' ? ['cancel', 'check_in'] : [],
  };
}

describe('slots', () => {
  it('groups by hall in the halls order, then by day, each by time, with the day total', () => {
    const halls = [
      { id: 2, name: '市民中心' },
      { id: 1, name: '江南区中心' },
    ];
    const groups = groupSlots(
      [slot(3, 1, '2026-12-02', '10:00', 1), slot(1, 2, '2026-12-03', '09:00', 0), slot(2, 2, '2026-12-02', '14:00', 4), slot(4, 2, '2026-12-02', '09:00', 2)],
      halls,
    );
    expect(groups.map((g) => g.hallName)).toEqual(['市民中心', '江南区中心']);
    expect(groups[0].days.map((d) => [d.label, d.remaining])).toEqual([
      ['12月2日 周三', 6],
      ['12月3日 周四', 0],
    ]);
    expect(groups[0].days[0].slots.map((s) => s.id)).toEqual([4, 2]);
  });

  it('names a hall it does not know by its id rather than dropping its slots', () => {
    expect(groupSlots([slot(1, 9, '2026-12-02', '09:00', 1)], [])[0].hallName).toBe('大厅 9');
  });

  it('says the seats left, or that the slot is full', () => {
    expect(seatsText({ remaining: 3 })).toBe('余 3');
    expect(seatsText({ remaining: 0 })).toBe('已约满');
  });

  it('labels days and slots in the city time the API writes', () => {
    expect(dayLabel('2026-12-06')).toBe('12月6日 周日');
    expect(slotLabel({ start: '2026-12-02T09:00:00+08:00', end: '2026-12-02T09:30:00+08:00' })).toBe('12月2日 周三 09:00-09:30');
  });

  it('books with the slot, its matter and an idempotency key', async () => {
    const sent: TransportRequest[] = [];
    const transport: Transport = async (request) => {
      sent.push(request);
      return { status: 201, body: appointment(1, 'booked', '', '') };
    };
    await book(createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') }), { id: 5, matter_id: 7 }, 'key-1');
    expect(sent[0].url).toBe('/api/v1/appointments');
    expect(JSON.parse(sent[0].body!)).toEqual({ slot_id: 5, matter_id: 7 });
    expect(sent[0].headers['Idempotency-Key']).toBe('key-1');
  });
});

describe('refusals explained', () => {
  const codes = [
    ['SLOT_FULL', 409, 'other_slot'],
    ['ALREADY_BOOKED', 409, 'my_appointments'],
    ['BOOKING_LIMIT_REACHED', 409, 'my_appointments'],
    ['BOOKING_CLOSED', 409, 'other_slot'],
    ['REAL_NAME_REQUIRED', 403, 'real_name'],
    ['BOOKING_SUSPENDED', 403, 'none'],
    ['SLOT_NOT_FOUND', 404, 'other_slot'],
    ['CANCEL_CLOSED', 409, 'none'],
    ['APPOINTMENT_STATE_CONFLICT', 409, 'retry'],
    ['HALL_CLOSED', 409, 'later'],
    ['MATTER_NOT_SERVED_HERE', 409, 'none'],
    ['RATE_LIMITED', 429, 'later'],
    ['CHECKIN_NOT_OPEN', 409, 'later'],
  ] as const;

  it.each(codes)('%s has its own Chinese title, the next step and a fitting button', (code, status, action) => {
    const explained = explainBookingError(new ApiError(status, code, 'server words'));
    expect(explained.action).toBe(action);
    expect(explained.title).toMatch(/[\u4e00-\u9fff]/);
    expect(explained.next).toMatch(/[\u4e00-\u9fff]/);
    expect(explained.title).not.toBe('操作未完成');
  });

  it('every code gets a different title', () => {
    const titles = codes.map(([code, status]) => explainBookingError(new ApiError(status, code, 'x')).title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('says until when booking is suspended and when a slot could be booked', () => {
    const suspended = explainBookingError(new ApiError(403, 'BOOKING_SUSPENDED', 'x', null, { suspended_until: '2027-01-05T10:00:00+08:00' }));
    expect(suspended.text).toContain('1月5日 周二 10:00 前暂停网上预约');
    expect(suspended.next).toContain('现场取号');
    const closed = explainBookingError(
      new ApiError(409, 'BOOKING_CLOSED', 'x', null, { opens_at: '2026-12-01T08:00:00+08:00', closes_at: '2026-12-03T08:00:00+08:00' }),
    );
    expect(closed.text).toBe('该时段的预约时间为 12月1日 周二 08:00 至 12月3日 周四 08:00。');
    const cancel = explainBookingError(new ApiError(409, 'CANCEL_CLOSED', 'x', null, { cancel_closes_at: '2026-12-02T07:00:00+08:00' }));
    expect(cancel.text).toContain('12月2日 周三 07:00');
  });

  it('keeps the server message where it carries the facts (when the hall opens)', () => {
    const closed = explainBookingError(new ApiError(409, 'HALL_CLOSED', '市民中心不在办公时间，暂停取号，下次开放时间 2026-12-02 09:00'));
    expect(closed.text).toContain('2026-12-02 09:00');
  });

  it('a network failure offers a retry; an unknown refusal shows the server message', () => {
    expect(explainBookingError(new NetworkError(null, async () => null)).action).toBe('retry');
    const unknown = explainBookingError(new ApiError(409, 'SOMETHING_NEW', '新的拒绝原因'));
    expect(unknown.text).toBe('新的拒绝原因');
    expect(unknown.action).toBe('none');
  });
});

describe('appointments and tickets', () => {
  const now = new Date('2026-12-01T10:00:00+08:00');
  it('upcoming: booked and not yet ended, soonest first', () => {
    const list = [
      appointment(1, 'booked', '2026-12-03T09:00:00+08:00', '2026-12-03T09:30:00+08:00'),
      appointment(2, 'booked', '2026-11-30T09:00:00+08:00', '2026-11-30T09:30:00+08:00'),
      appointment(3, 'cancelled', '2026-12-02T09:00:00+08:00', '2026-12-02T09:30:00+08:00'),
      appointment(4, 'booked', '2026-12-01T09:45:00+08:00', '2026-12-01T10:15:00+08:00'),
    ];
    expect(upcomingAppointments(list, now).map((a) => a.id)).toEqual([4, 1]);
  });

  it('says what no-shows mean: nothing without any, the count and the rule, the suspension and its end', () => {
    const standing = { recent_no_shows: 0, no_shows_to_suspend: 3, window_days: 90, suspension_days: 30, suspended_until: null };
    expect(standingNotice(standing)).toBeNull();
    const some = standingNotice({ ...standing, recent_no_shows: 2 });
    expect(some?.title).toBe('近 90 天预约未到场 2 次');
    expect(some?.text).toContain('累计 3 次预约未到场，将暂停网上预约 30 天');
    const suspended = standingNotice({ ...standing, recent_no_shows: 3, suspended_until: '2026-10-23T10:00:00+08:00' });
    expect(suspended?.title).toBe('网上预约已暂停至 10月23日 10:00');
    expect(suspended?.text).toContain('仍可到大厅现场取号');
  });

  it('a ticket says the people ahead, then the window it is called to', () => {
    expect(ticketStatusText({ status: 'waiting', ahead: 3, window: null })).toBe('前面还有 3 人');
    expect(ticketStatusText({ status: 'waiting', ahead: 0, window: null })).toBe('下一个就到您，请留意叫号');
    expect(ticketStatusText({ status: 'called', ahead: 0, window: 12 })).toBe('请到 12 号窗口办理');
  });
});

describe('guide', () => {
  it('shows integer fen as yuan', () => {
    expect(yuan(0)).toBe('¥0');
    expect(yuan(2000)).toBe('¥20');
    expect(yuan(1205)).toBe('¥12.05');
    expect(feeSummary({ fees: [] })).toBe('不收费');
    expect(feeSummary({ fees: [{ name: '工本费', amount_fen: 2000 }] })).toBe('¥20');
    expect(feeSummary({ fees: [{ name: 'a', amount_fen: 2000 }, { name: 'b', amount_fen: 550 }] })).toBe('共 ¥25.50');
  });

  it('names the form of a material and its copies', () => {
    expect(materialForm({ form: 'original', copies: 1 })).toBe('原件 1 份');
    expect(materialForm({ form: 'copy', copies: 2 })).toBe('复印件 2 份');
    expect(materialForm({ form: 'electronic', copies: 0 })).toBe('电子版');
  });
});

describe('to-dos', () => {
  function kase(overrides: Partial<CaseSummary>): CaseSummary {
    return {
      id: 1,
      matter_id: 7,
      matter_name: '社会保障卡申领',
      guide_version: 1,
      department_id: 1,
      department_name: '人社局',
      channel: 'online',
      status: 'submitted',
      version: 1,
      receipt_no: 'LJ2026120100001',
      applicant_name: '张*',
      id_number_masked: '110***********1234',
      filed_by_proxy: false,
      created_at: '',
      submitted_at: null,
      accepted_at: null,
      deadline: null,
      light: null,
      clock_paused: false,
      paused_workdays: 0,
      promised_days: 5,
      amount_fen: 0,
      paid: false,
      ended_at: null,
      rated: false,
      can_rate: false,
      allowed_actions: [],
      ...overrides,
    } as CaseSummary;
  }

  it('a case sent back for supplements, an unpaid fee and a rating due are to-dos; a case under review is not', () => {
    expect(caseTodo(kase({ status: 'supplement_required', allowed_actions: ['submit', 'withdraw'] }))?.title).toBe('需补正材料');
    expect(caseTodo(kase({ status: 'accepted', amount_fen: 2000, paid: false }))?.title).toBe('待缴费');
    expect(caseTodo(kase({ status: 'accepted', amount_fen: 2000, paid: true }))).toBeNull();
    expect(caseTodo(kase({ status: 'delivered', can_rate: true }))?.title).toBe('待评价');
    expect(caseTodo(kase({ status: 'in_review' }))).toBeNull();
    // a withdrawn case owes nothing even with its fee unpaid
    expect(caseTodo(kase({ status: 'withdrawn', amount_fen: 2000 }))).toBeNull();
  });

  it('cases first, then coming appointments with the matter name and time', () => {
    const todos = buildTodos(
      [kase({ id: 9, status: 'supplement_required', allowed_actions: ['submit'] }), kase({ id: 10, status: 'in_review' })],
      [appointment(4, 'booked', '2026-12-02T09:00:00+08:00', '2026-12-02T09:30:00+08:00')],
      new Map([[7, '社会保障卡申领']]),
      new Date('2026-12-01T10:00:00+08:00'),
    );
    expect(todos.map((t) => t.title)).toEqual(['需补正材料', '预约待办理']);
    expect(todos[1].detail).toBe('社会保障卡申领 · 12月2日 周三 09:00-09:30');
    expect(todos[1].url).toBe('/pages-service/appointment/index?id=4');
  });
});

describe('check-in QR code', () => {
  it('is a square with the three finder patterns in its corners', () => {
    const matrix = qrMatrix('ABCD2345');
    const size = matrix.length;
    expect(size).toBeGreaterThanOrEqual(21);
    expect((size - 17) % 4).toBe(0);
    expect(matrix.every((row) => row.length === size)).toBe(true);
    for (const [top, left] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
      // the finder's dark ring and its light ring inside
      expect(matrix[top][left + 3]).toBe(true);
      expect(matrix[top + 6][left + 3]).toBe(true);
      expect(matrix[top + 1][left + 3]).toBe(false);
      expect(matrix[top + 3][left + 3]).toBe(true);
    }
    // the fourth corner has no finder: its outer ring is not all dark
    expect([0, 1, 2, 3, 4, 5, 6].every((i) => matrix[size - 1][size - 7 + i] && matrix[size - 7 + i][size - 1])).toBe(false);
  });

  it('differs for different codes and is the same for the same code', () => {
    expect(qrMatrix('ABCD2345')).toEqual(qrMatrix('ABCD2345'));
    expect(qrMatrix('ABCD2345')).not.toEqual(qrMatrix('ABCD2346'));
  });

  it('runs cover each row exactly, alternating dark and light', () => {
    const matrix = qrMatrix('ZXCV9876');
    const runs = qrRuns(matrix);
    runs.forEach((row, index) => {
      expect(row.reduce((sum, run) => sum + run.length, 0)).toBe(matrix.length);
      row.slice(1).forEach((run, i) => expect(run.dark).not.toBe(row[i].dark));
      expect(row.flatMap((run) => Array(run.length).fill(run.dark))).toEqual(matrix[index]);
    });
  });
});

describe('refresh while shown', () => {
  function fakeTimers() {
    const pending = new Map<number, () => void>();
    let next = 0;
    const timers: Timers = {
      set: (callback) => {
        next += 1;
        pending.set(next, callback);
        return next;
      },
      clear: (handle) => void pending.delete(handle as number),
    };
    async function fire() {
      const entries = [...pending.entries()];
      pending.clear();
      entries.forEach(([, callback]) => callback());
      await Promise.resolve();
      await Promise.resolve();
    }
    return { timers, pending, fire };
  }

  it('runs at once, again after each interval, and not after stop', async () => {
    const { timers, pending, fire } = fakeTimers();
    const run = vi.fn(async () => undefined);
    const poller = createPoller(run, 5000, timers);
    poller.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(run).toHaveBeenCalledTimes(1);
    await fire();
    expect(run).toHaveBeenCalledTimes(2);
    poller.stop();
    expect(pending.size).toBe(0);
    await fire();
    expect(run).toHaveBeenCalledTimes(2);
    expect(poller.running).toBe(false);
  });

  it('shown again: starts again; started twice: still one timer', async () => {
    const { timers, pending, fire } = fakeTimers();
    const run = vi.fn(async () => undefined);
    const poller = createPoller(run, 5000, timers);
    poller.start();
    poller.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(pending.size).toBe(1);
    await fire();
    expect(pending.size).toBe(1);
    poller.stop();
    poller.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(pending.size).toBe(1);
    expect(run).toHaveBeenCalledTimes(3);
  });

  it('a failing refresh keeps polling; a run that ends after stop schedules nothing', async () => {
    const { timers, pending } = fakeTimers();
    let finish: () => void = () => {};
    const run = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const poller = createPoller(run, 5000, timers);
    poller.start();
    poller.stop();
    finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(pending.size).toBe(0);

    const failing = createPoller(async () => Promise.reject(new Error('offline')), 5000, timers);
    failing.start();
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(pending.size).toBe(1);
  });
});
