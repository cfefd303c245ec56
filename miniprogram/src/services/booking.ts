import { ApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';
import { describeFailure } from './errors';

export type Slot = Schema<'SlotOut'>;
export type Hall = Schema<'HallOut'>;
export type Appointment = Schema<'AppointmentOut'>;
export type QueueTicket = Schema<'QueueTicketOut'>;
export type BookingStanding = Schema<'BookingStandingOut'>;

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** 'HH:MM' of an ISO time the API wrote in the city's offset (+08:00), as the hall's clock shows it. */
export function clockOf(iso: string): string {
  return iso.slice(11, 16);
}

/** '12月2日 周三' for a date 'YYYY-MM-DD' (the weekday of that calendar day, whatever the phone's zone). */
export function dayLabel(date: string): string {
  const [year, month, day] = date.slice(0, 10).split('-').map(Number);
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return `${month}月${day}日 ${WEEKDAYS[weekday]}`;
}

/** '12月2日 周三 09:00-09:30' for an appointment's slot. */
export function slotLabel(slot: { start: string; end: string }): string {
  return `${dayLabel(slot.start)} ${clockOf(slot.start)}-${clockOf(slot.end)}`;
}

export interface DayOfSlots {
  date: string;
  label: string;
  slots: Slot[];
  remaining: number;
}

export interface HallOfSlots {
  hallId: number;
  hallName: string;
  days: DayOfSlots[];
}

/** The slots as the booking page shows them: per hall (in the halls' order), per working day, by start time. */
export function groupSlots(slots: Slot[], halls: Pick<Hall, 'id' | 'name'>[]): HallOfSlots[] {
  const byHall = new Map<number, Map<string, Slot[]>>();
  for (const slot of [...slots].sort((a, b) => a.start.localeCompare(b.start))) {
    const days = byHall.get(slot.hall_id) ?? new Map<string, Slot[]>();
    byHall.set(slot.hall_id, days);
    const day = days.get(slot.date) ?? [];
    days.set(slot.date, day);
    day.push(slot);
  }
  const order = new Map(halls.map((hall, index) => [hall.id, index]));
  return [...byHall.entries()]
    .sort(([a], [b]) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity) || a - b)
    .map(([hallId, days]) => ({
      hallId,
      hallName: halls.find((hall) => hall.id === hallId)?.name ?? `大厅 ${hallId}`,
      days: [...days.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([date, daySlots]) => ({
          date,
          label: dayLabel(date),
          slots: daySlots,
          remaining: daySlots.reduce((sum, slot) => sum + slot.remaining, 0),
        })),
    }));
}

/** What a slot button says: its time and the seats left (or that it is full). */
export function seatsText(slot: Pick<Slot, 'remaining'>): string {
  return slot.remaining > 0 ? `余 ${slot.remaining}` : '已约满';
}

/** An explained refusal: what happened, what to do next, and which button helps. */
export interface Explanation {
  title: string;
  text: string;
  next: string;
  action: 'other_slot' | 'real_name' | 'my_appointments' | 'retry' | 'later' | 'none';
}

function dateTimeOf(iso: unknown): string | null {
  if (typeof iso !== 'string' || iso.length < 16) return null;
  return `${dayLabel(iso)} ${clockOf(iso)}`;
}

/**
 * Every refusal of booking, cancelling, checking in and taking a number, in plain Chinese with the next step.
 * The server's own message is kept where it carries facts (dates) the code alone does not.
 */
export function explainBookingError(error: unknown): Explanation {
  if (!(error instanceof ApiError)) {
    const failure = describeFailure(error);
    return { title: '操作未完成', text: failure.text, next: '请检查网络后重试。', action: failure.retry ? 'retry' : 'none' };
  }
  const details = error.details ?? {};
  switch (error.code) {
    case 'SLOT_FULL':
      return {
        title: '该时段已约满',
        text: '您选择的时段名额刚刚被约完了。',
        next: '请选择同一天的其他时段，或换一天、换一个大厅预约。',
        action: 'other_slot',
      };
    case 'ALREADY_BOOKED':
      return {
        title: '您当天已预约过该事项',
        text: '同一事项同一天只能预约一次。',
        next: '请到“我的预约”查看已有预约；如需改时间，先取消原预约再重新预约。',
        action: 'my_appointments',
      };
    case 'BOOKING_LIMIT_REACHED': {
      const max = typeof details.max_active === 'number' ? details.max_active : null;
      return {
        title: '有效预约已达上限',
        text: max ? `每人同时最多保留 ${max} 个未办理的预约。` : '您未办理的预约已达上限。',
        next: '请先办理或取消已有的预约，再预约新的时段。',
        action: 'my_appointments',
      };
    }
    case 'BOOKING_CLOSED': {
      const opens = dateTimeOf(details.opens_at);
      const closes = dateTimeOf(details.closes_at);
      return {
        title: '该时段现在不能预约',
        text: opens && closes ? `该时段的预约时间为 ${opens} 至 ${closes}。` : '该时段尚未放号，或已停止预约。',
        next: '请选择其他时段；当天临近的时段可直接到大厅现场取号。',
        action: 'other_slot',
      };
    }
    case 'REAL_NAME_REQUIRED':
      return {
        title: '请先完成实名认证',
        text: '预约办事需要确认您的真实身份。',
        next: '请到“我的”页面完成实名认证后再预约。',
        action: 'real_name',
      };
    case 'BOOKING_SUSPENDED': {
      const until = dateTimeOf(details.suspended_until);
      return {
        title: '预约功能暂停使用',
        text: until
          ? `因 90 天内多次预约后未到场，${until} 前暂停网上预约。`
          : '因 90 天内多次预约后未到场，暂停网上预约。',
        next: '暂停期间您仍可在大厅开放时间到现场取号办理。',
        action: 'none',
      };
    }
    case 'SLOT_NOT_FOUND':
      return { title: '该时段已不存在', text: '排班可能已调整。', next: '请刷新后重新选择时段。', action: 'other_slot' };
    case 'NOT_BOOKABLE_HERE':
      return { title: '该大厅不办理此事项', text: error.message, next: '请选择事项指南中列出的大厅。', action: 'other_slot' };
    case 'CANCEL_CLOSED': {
      const closes = dateTimeOf(details.cancel_closes_at);
      return {
        title: '已过取消截止时间',
        text: closes ? `该预约最晚可在 ${closes} 前取消。` : '该预约已过取消截止时间。',
        next: '请按时到场办理；确实无法前往的，未到将计入爽约记录。',
        action: 'none',
      };
    }
    case 'APPOINTMENT_STATE_CONFLICT':
    case 'ILLEGAL_TRANSITION':
      return { title: '预约状态已变化', text: '该预约已签到、已取消或已过期。', next: '请刷新查看最新状态。', action: 'retry' };
    case 'APPOINTMENT_NOT_FOUND':
      return { title: '预约不存在', text: '没有找到这条预约。', next: '请返回“我的预约”查看。', action: 'my_appointments' };
    case 'CHECKIN_NOT_OPEN':
      return {
        title: '现在还不能签到',
        text: error.message,
        next: '请在预约时段开始前 30 分钟到时段结束之间签到。',
        action: 'later',
      };
    case 'HALL_CLOSED':
      return {
        title: '大厅不在办公时间',
        text: error.message,
        next: '请在大厅开放时间内取号，或先网上预约。',
        action: 'later',
      };
    case 'MATTER_NOT_SERVED_HERE':
      return {
        title: '本大厅不办理该事项',
        text: error.message,
        next: '请查看办事指南里的受理大厅，到那里取号或网上预约。',
        action: 'none',
      };
    case 'HALL_NOT_FOUND':
      return { title: '大厅不存在', text: '没有找到这个大厅。', next: '请返回重新选择大厅。', action: 'none' };
    case 'MATTER_NOT_FOUND':
      return { title: '事项不存在', text: '该事项可能已下线。', next: '请返回首页重新搜索。', action: 'none' };
    case 'RATE_LIMITED':
      return { title: '操作太频繁', text: '短时间内操作次数过多。', next: '请稍等一分钟后再试。', action: 'later' };
    default: {
      const failure = describeFailure(error);
      return { title: '操作未完成', text: failure.text, next: failure.retry ? '请稍后重试。' : '如有疑问请拨打大厅咨询电话。', action: failure.retry ? 'retry' : 'none' };
    }
  }
}

const STATUS_LABELS: Record<string, string> = {
  booked: '待办理',
  cancelled: '已取消',
  checked_in: '已签到',
  no_show: '未到场',
  done: '已办结',
};

/** The appointment's status in Chinese. */
export function appointmentStatusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** Appointments still ahead (booked, slot not yet ended), soonest first. */
export function upcomingAppointments(appointments: Appointment[], now: Date): Appointment[] {
  return appointments
    .filter((appointment) => appointment.status === 'booked' && Date.parse(appointment.slot.end) > now.getTime())
    .sort((a, b) => a.slot.start.localeCompare(b.slot.start));
}

/**
 * What "my appointments" says of the citizen's no-shows (GET /me/booking-standing): the suspension and its end when
 * suspended, the count and what it leads to when there are some, nothing otherwise.
 */
export function standingNotice(standing: BookingStanding): { title: string; text: string } | null {
  const rule = `${standing.window_days} 天内累计 ${standing.no_shows_to_suspend} 次预约未到场，将暂停网上预约 ${standing.suspension_days} 天`;
  if (standing.suspended_until) {
    const [, month, day] = standing.suspended_until.slice(0, 10).split('-');
    return {
      title: `网上预约已暂停至 ${Number(month)}月${Number(day)}日 ${clockOf(standing.suspended_until)}`,
      text: `${rule}。暂停期间仍可到大厅现场取号办理。`,
    };
  }
  if (standing.recent_no_shows > 0) {
    return {
      title: `近 ${standing.window_days} 天预约未到场 ${standing.recent_no_shows} 次`,
      text: `${rule}（暂停期间仍可到大厅现场取号）。不能前往时请在截止时间前取消。`,
    };
  }
  return null;
}

/** What the ticket page says of a number: people ahead, the window it is called to, or that it is over. */
export function ticketStatusText(ticket: Pick<QueueTicket, 'status' | 'ahead' | 'window'>): string {
  if (ticket.status === 'waiting') return ticket.ahead > 0 ? `前面还有 ${ticket.ahead} 人` : '下一个就到您，请留意叫号';
  if (ticket.status === 'called') return ticket.window ? `请到 ${ticket.window} 号窗口办理` : '已叫号，请到窗口办理';
  if (ticket.status === 'done') return '已办理完成';
  if (ticket.status === 'skipped') return '已过号，请到服务台咨询重新叫号';
  return ticket.status;
}

// ---- calls ----

/** Every hall (a city has a handful), memoised for the session. */
let hallsMemo: Promise<Hall[]> | null = null;
export function loadHalls(client: ApiClient): Promise<Hall[]> {
  hallsMemo ??= client.GET('/api/v1/halls', { query: { page_size: 100 } }).then(
    (page) => page.items,
    (error) => {
      hallsMemo = null;
      throw error;
    },
  );
  return hallsMemo;
}

/** The matter's released slots with their remaining seats (the next working days, every hall or one). */
export function loadSlots(client: ApiClient, matterId: number, hallId?: number): Promise<Slot[]> {
  return client.GET('/api/v1/matters/{matter_id}/slots', { path: { matter_id: matterId }, query: { hall_id: hallId } });
}

/** Books a seat; the key makes a double tap (or a retried request) one appointment. */
export function book(client: ApiClient, slot: Pick<Slot, 'id' | 'matter_id'>, idempotencyKey: string): Promise<Appointment> {
  return client.POST('/api/v1/appointments', {
    body: { slot_id: slot.id, matter_id: slot.matter_id },
    headers: { 'Idempotency-Key': idempotencyKey },
  });
}

/** The citizen's appointments, newest slot first. */
export async function myAppointments(client: ApiClient): Promise<Appointment[]> {
  return (await client.GET('/api/v1/appointments', { query: { page_size: 50 } })).items;
}

export function appointmentById(client: ApiClient, id: number): Promise<Appointment> {
  return client.GET('/api/v1/appointments/{appointment_id}', { path: { appointment_id: id } });
}

export function cancelAppointment(client: ApiClient, id: number): Promise<Appointment> {
  return client.POST('/api/v1/appointments/{appointment_id}/cancel', { path: { appointment_id: id } });
}

export function myBookingStanding(client: ApiClient): Promise<BookingStanding> {
  return client.GET('/api/v1/me/booking-standing');
}

export function myQueueTickets(client: ApiClient): Promise<QueueTicket[]> {
  return client.GET('/api/v1/me/queue-tickets');
}

export function takeQueueTicket(client: ApiClient, hallId: number, matterId?: number): Promise<QueueTicket> {
  return client.POST('/api/v1/me/queue-tickets', { body: { hall_id: hallId, matter_id: matterId } });
}
