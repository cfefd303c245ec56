import type { Schema } from '@govhall/api-client';

export type CalendarDay = Schema<'CalendarDayOut'>;

export interface DayCell {
  /** YYYY-MM-DD */
  date: string;
  day: number;
  isWorkday: boolean;
  /** admin: set in the console (a holiday or 调休 make-up day); weekend/weekday: the default rule. */
  kind: 'holiday' | 'makeup' | 'weekend' | 'weekday';
  note: string;
}

function iso(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * The month as weeks Monday..Sunday (null outside the month). A day the admin set is a holiday (休) or a make-up
 * working day (班); every other day follows Monday-to-Friday.
 */
export function monthGrid(year: number, month: number, overrides: readonly CalendarDay[]): Array<Array<DayCell | null>> {
  const set = new Map(overrides.map((day) => [day.date, day]));
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const leading = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7;
  const cells: Array<DayCell | null> = Array.from({ length: leading }, () => null);
  for (let day = 1; day <= days; day += 1) {
    const date = iso(year, month, day);
    const weekend = (leading + day - 1) % 7 >= 5;
    const override = set.get(date);
    if (override) {
      cells.push({ date, day, isWorkday: override.is_workday, kind: override.is_workday ? 'makeup' : 'holiday', note: override.note });
    } else {
      cells.push({ date, day, isWorkday: !weekend, kind: weekend ? 'weekend' : 'weekday', note: '' });
    }
  }
  while (cells.length % 7) cells.push(null);
  const weeks: Array<Array<DayCell | null>> = [];
  for (let start = 0; start < cells.length; start += 7) weeks.push(cells.slice(start, start + 7));
  return weeks;
}

/** What setting a day does: on a working day it offers a holiday, on a rest day a make-up working day. */
export function proposedChange(cell: DayCell): { isWorkday: boolean; label: string } {
  if (cell.kind === 'holiday') return { isWorkday: true, label: '恢复为工作日' };
  if (cell.kind === 'makeup') return { isWorkday: false, label: '恢复为休息日' };
  return cell.isWorkday ? { isWorkday: false, label: '设为节假日（休）' } : { isWorkday: true, label: '设为调休上班（班）' };
}
