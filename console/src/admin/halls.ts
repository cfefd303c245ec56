import type { Schema } from '@govhall/api-client';

export type Hall = Schema<'HallOut'>;
export type HallWindow = Schema<'WindowOut'>;
export type HallBody = Schema<'HallIn'>;
export type WindowBody = Schema<'WindowIn'>;

/** A hall as the form edits it (text fields; the opening periods stay as they are unless the text is read). */
export interface HallForm {
  code: string;
  name: string;
  district: string;
  address: string;
  openingHours: string;
  phone: string;
}

export const EMPTY_HALL: HallForm = { code: '', name: '', district: '', address: '', openingHours: '', phone: '' };

export function hallForm(hall: Hall): HallForm {
  return { code: hall.code, name: hall.name, district: hall.district, address: hall.address, openingHours: hall.opening_hours, phone: hall.phone };
}

/** What is wrong with the form, in plain Chinese (empty: it may be sent; the server checks again). */
export function hallFormProblems(form: HallForm): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9-]{2,16}$/.test(form.code.trim())) problems.push('大厅编码为 2-16 位字母、数字或 -。');
  if (!form.name.trim()) problems.push('请填写大厅名称。');
  if (!form.district.trim()) problems.push('请填写所在区县。');
  if (!form.address.trim()) problems.push('请填写地址。');
  if (form.openingHours.length > 128) problems.push('办公时间最多 128 个字。');
  return problems;
}

/**
 * The PUT/POST body. The opening periods are sent empty when the hours text changed, so walk-in numbers follow the
 * new text (the server reads it); otherwise the hall's own periods are kept.
 */
export function hallBody(form: HallForm, hall: Hall | null, departmentId: number | null): HallBody {
  const sameText = hall !== null && hall.opening_hours === form.openingHours.trim();
  return {
    code: form.code.trim(),
    name: form.name.trim(),
    district: form.district.trim(),
    address: form.address.trim(),
    opening_hours: form.openingHours.trim(),
    opening_periods: sameText && hall ? hall.opening_periods : [],
    phone: form.phone.trim(),
    department_id: departmentId,
  };
}

/** The window as sent back with one change (open or closed, a new name ...). */
export function windowBody(window: HallWindow, patch: Partial<WindowBody> = {}): WindowBody {
  return { number: window.number, name: window.name, department_id: window.department_id, matter_ids: window.matter_ids, open: window.open, ...patch };
}

/** The next free window number of a hall (1 for the first). */
export function nextWindowNumber(windows: readonly HallWindow[]): number {
  return windows.reduce((highest, window) => Math.max(highest, window.number), 0) + 1;
}

/** Whom a window serves, in words: "综合窗口（所有部门）", "市公安局", "市公安局 · 2 个事项". */
export function servesText(window: HallWindow, departmentName: (id: number) => string): string {
  const who = window.department_id === null ? '综合窗口（所有部门）' : departmentName(window.department_id);
  return window.matter_ids.length ? `${who} · 限 ${window.matter_ids.length} 个事项` : who;
}

/** What a new window's number clashes with, or null. */
export function windowNumberProblem(number: number, windows: readonly HallWindow[], editing: HallWindow | null = null): string | null {
  if (!Number.isInteger(number) || number < 1 || number > 999) return '窗口编号为 1-999 的整数。';
  if (windows.some((window) => window.number === number && window.id !== editing?.id)) return `${number} 号窗口已存在。`;
  return null;
}
