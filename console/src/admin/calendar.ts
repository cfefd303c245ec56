import type { Schema } from '@govhall/api-client';

export type CalendarDay = Schema<'CalendarDayOut'>;
export type StatutoryDay = Schema<'StatutoryDayOut'>;

export interface DayCell {
  /** YYYY-MM-DD */
  date: string;
  day: number;
  isWorkday: boolean;
  /**
   * holiday / makeup: set in the console (a holiday or 调休 make-up day); statutoryHoliday / statutoryMakeup: the
   * State Council's holidays and make-up working days (the chinesecalendar data); weekend/weekday: the default rule.
   */
  kind: DayKind;
  note: string;
}

export type DayKind = 'holiday' | 'makeup' | 'statutoryHoliday' | 'statutoryMakeup' | 'weekend' | 'weekday';

/** The mark a day shows (words, so colour is never the only sign) and what it means, for the legend. */
export const DAY_KINDS: Record<DayKind, { mark: string; meaning: string }> = {
  statutoryHoliday: { mark: '法定休', meaning: '法定节假日（国家公布）' },
  statutoryMakeup: { mark: '调休班', meaning: '调休上班日（国家公布）' },
  holiday: { mark: '设定休', meaning: '本处设定的休息日' },
  makeup: { mark: '设定班', meaning: '本处设定的上班日' },
  weekend: { mark: '', meaning: '周末' },
  weekday: { mark: '', meaning: '工作日' },
};

/** What a screen reader hears for a day: the date, working or not, and why. */
export function dayLabel(cell: DayCell): string {
  const why = cell.kind === 'weekend' || cell.kind === 'weekday' ? '' : `，${DAY_KINDS[cell.kind].meaning}`;
  return `${cell.date} ${cell.isWorkday ? '工作日' : '休息日'}${why}${cell.note ? `：${cell.note}` : ''}`;
}

function iso(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * The month as weeks Monday..Sunday (null outside the month). A day the admin set is a holiday (休) or a make-up
 * working day (班); else a statutory holiday or 调休 make-up day as the State Council published it; every other day
 * follows Monday-to-Friday. The admin's word wins, as on the server (app/core/workdays.py).
 */
export function monthGrid(
  year: number,
  month: number,
  overrides: readonly CalendarDay[],
  statutory: readonly StatutoryDay[] = [],
): Array<Array<DayCell | null>> {
  const set = new Map(overrides.map((day) => [day.date, day]));
  const published = new Map(statutory.map((day) => [day.date, day]));
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const leading = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7;
  const cells: Array<DayCell | null> = Array.from({ length: leading }, () => null);
  for (let day = 1; day <= days; day += 1) {
    const date = iso(year, month, day);
    const weekend = (leading + day - 1) % 7 >= 5;
    const override = set.get(date);
    const official = published.get(date);
    if (override) {
      cells.push({ date, day, isWorkday: override.is_workday, kind: override.is_workday ? 'makeup' : 'holiday', note: override.note });
    } else if (official) {
      const makeup = official.kind === 'makeup';
      cells.push({
        date,
        day,
        isWorkday: official.is_workday,
        kind: makeup ? 'statutoryMakeup' : 'statutoryHoliday',
        note: makeup ? `${official.name}调休` : official.name,
      });
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
