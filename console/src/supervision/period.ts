/** The dashboard's period picker: presets and a chosen range as the API's from/to days (the city's calendar). */

export interface Period {
  from: string;
  to: string;
}

export const PRESETS = [
  { value: '30', label: '近30天', days: 30 },
  { value: '84', label: '近12周', days: 84 },
  { value: '182', label: '近半年', days: 182 },
  { value: '365', label: '近一年', days: 365 },
] as const;

/** A day in the city (Asia/Shanghai) as YYYY-MM-DD, whatever the browser's zone. */
export function cityDay(at: Date): string {
  return at.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}

/** The last `days` days up to and including today. */
export function lastDays(days: number, now: Date = new Date()): Period {
  const to = cityDay(now);
  const first = new Date(`${to}T00:00:00Z`);
  first.setUTCDate(first.getUTCDate() - (days - 1));
  return { from: first.toISOString().slice(0, 10), to };
}

/** Why a hand-picked range cannot be asked for (the backend's limits), or null when it can. */
export function periodProblem(period: Period): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period.from) || !/^\d{4}-\d{2}-\d{2}$/.test(period.to)) return '请选择开始和结束日期。';
  if (period.from > period.to) return '开始日期晚于结束日期，请重新选择。';
  const days = (Date.parse(period.to) - Date.parse(period.from)) / 86_400_000 + 1;
  if (days > 366) return '统计区间最长 366 天，请缩短区间。';
  return null;
}
