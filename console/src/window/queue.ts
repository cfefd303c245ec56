import { ApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';
import { servesText } from '../admin/halls';
import { apiErrorText } from '../session/errors';

export type Hall = Schema<'HallOut'>;
export type QueueTicket = Schema<'QueueTicketOut'>;
export type HallAppointment = Schema<'HallAppointmentOut'>;
export type Queue = Schema<'QueueOut'>;
export type Department = Schema<'DepartmentOut'>;
export type QueueAction = 'recall' | 'skip' | 'finish';

/** The window desk's calls: halls, the day's appointments, check-in by code, call next, recall/skip/finish. */
export function queueService(client: ApiClient) {
  return {
    halls: async (): Promise<Hall[]> => (await client.GET('/api/v1/halls', { query: { page_size: 100 } })).items,
    departments: async (): Promise<Department[]> =>
      (await client.GET('/api/v1/departments', { query: { page_size: 100 } })).items,
    async appointments(hallId: number): Promise<HallAppointment[]> {
      const page = await client.GET('/api/v1/staff/halls/{hall_id}/appointments', {
        path: { hall_id: hallId },
        query: { page_size: 100 },
      });
      return page.items;
    },
    checkIn: (code: string) => client.POST('/api/v1/staff/checkins', { body: { code: code.trim() } }),
    callNext: (hallId: number, window: number): Promise<QueueTicket> =>
      client.POST('/api/v1/staff/halls/{hall_id}/call-next', { path: { hall_id: hallId }, body: { window } }),
    act(ticketId: number, action: QueueAction, window?: number): Promise<QueueTicket> {
      const path = { ticket_id: ticketId };
      if (action === 'recall') return client.POST('/api/v1/staff/queue-tickets/{ticket_id}/recall', { path, body: { window } });
      if (action === 'skip') return client.POST('/api/v1/staff/queue-tickets/{ticket_id}/skip', { path });
      return client.POST('/api/v1/staff/queue-tickets/{ticket_id}/finish', { path });
    },
    queue: (hallId: number): Promise<Queue> =>
      client.GET('/api/v1/halls/{hall_id}/queue', { path: { hall_id: hallId }, auth: false }),
  };
}

export type QueueService = ReturnType<typeof queueService>;

/** What to tell the window clerk when a queue call fails: what happened and what to do next. */
export function queueErrorText(error: unknown): string {
  if (!(error instanceof ApiError)) return apiErrorText(error);
  switch (error.code) {
    case 'APPOINTMENT_NOT_FOUND':
      return '没有这个预约码的预约。请核对群众出示的预约码（小程序“我的预约”中可见），或为其现场取号。';
    case 'CHECKIN_NOT_OPEN':
      return `${error.message}。预约不是今天的：请群众改约，或现场取号办理。`;
    case 'APPOINTMENT_STATE_CONFLICT':
      return '该预约已取消、已签到或已办结，不能再签到。已签到的请按原号等候叫号。';
    case 'QUEUE_EMPTY': {
      const others = Number(error.details?.waiting_in_hall ?? 0);
      if (others > 0) return `本窗口可办理的号都已叫完：大厅还有 ${others} 人在等其他窗口（他们办的事项不归本窗口）。`;
      return '当前没有等候的号。有群众签到或取号后再叫号。';
    }
    case 'QUEUE_TICKET_NOT_FOUND':
      return '这个号不存在（可能不是今天的号），请刷新页面。';
    case 'ILLEGAL_TRANSITION':
      return '这个号当前状态不能这样操作（可能已办结或已过号），请刷新后按当前状态操作。';
    case 'HALL_NOT_FOUND':
      return '大厅不存在，请重新选择大厅。';
    case 'VALIDATION_FAILED':
      return '所选窗口不在本大厅或已关闭，请重新选择窗口；预约码为 4 到 12 位。';
    default:
      return apiErrorText(error);
  }
}

const STATUS_NAMES: Record<string, string> = {
  booked: '已预约',
  checked_in: '已签到',
  no_show: '未到',
  done: '已办结',
  waiting: '等候中',
  called: '已叫号',
  skipped: '已过号',
};

/** A status in Chinese (appointments and queue numbers). */
export function statusName(status: string | null | undefined): string {
  return status ? (STATUS_NAMES[status] ?? status) : '—';
}

/** The window numbers of a hall without windows set up: 1..windows. */
export function windowNumbers(hall: Pick<Hall, 'windows'> | undefined): number[] {
  return Array.from({ length: hall?.windows ?? 0 }, (_, index) => index + 1);
}

export interface WindowChoice {
  value: number;
  label: string;
  disabled: boolean;
}

/**
 * The windows a clerk may sit at: the hall's own windows (number, name, whom it serves; a closed one listed but not
 * selectable), or 1..windows for a hall that has none set up.
 */
export function windowChoices(
  hall: Pick<Hall, 'windows' | 'service_windows'> | undefined,
  departmentName: (id: number) => string,
): WindowChoice[] {
  const listed = hall?.service_windows ?? [];
  if (!listed.length) return windowNumbers(hall).map((n) => ({ value: n, label: `${n} 号窗口`, disabled: false }));
  return listed.map((window) => ({
    value: window.number,
    label: [`${window.number} 号窗口`, window.name, servesText(window, departmentName)].filter(Boolean).join(' · ') + (window.open ? '' : '（已关闭）'),
    disabled: !window.open,
  }));
}

/**
 * The number my window is serving, from the hall's queue: after a reload the clerk can still recall, skip or finish
 * it (the desk keeps no state of its own on the server).
 */
export function servingAt(queue: Pick<Queue, 'hall_id' | 'serving'>, window: number): QueueTicket | null {
  const entry = queue.serving.find((item) => item.window === window);
  if (!entry) return null;
  return {
    id: entry.id,
    number: entry.number,
    hall_id: queue.hall_id,
    kind: entry.number.startsWith('A') ? 'appointment' : 'walk_in',
    status: 'called',
    window,
    ahead: 0,
    issued_at: '',
    called_at: entry.called_at,
    finished_at: null,
  };
}
