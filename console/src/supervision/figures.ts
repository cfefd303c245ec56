/** The supervision dashboard's data shaping: report rows -> table rows and ECharts options, from one column list. */
import type { components } from '@govhall/api-client';

export type DepartmentFigures = components['schemas']['DepartmentFigures'];
export type HallFigures = components['schemas']['HallFigures'];
export type WeekFigures = components['schemas']['WeekFigures'];
export type Row = Record<string, unknown>;

export interface Column {
  key: string;
  title: string;
  /** rate: a share 0..1 shown as a percentage. */
  kind?: 'rate' | 'count' | 'text';
}

// The same columns, in the same order and with the same headings, as the backend's export
// (app/stats/service.py EXPORT_COLUMNS): the table on screen and the downloaded file say the same thing.
export const DEPARTMENT_COLUMNS: Column[] = [
  { key: 'department_name', title: '部门', kind: 'text' },
  { key: 'satisfaction_rate', title: '满意率', kind: 'rate' },
  { key: 'total_ratings', title: '评价数' },
  { key: 'bad_ratings', title: '差评数' },
  { key: 'rectifications', title: '整改数' },
  { key: 'fix_on_time_rate', title: '整改按时率', kind: 'rate' },
  { key: 'complaints', title: '投诉数' },
  { key: 'cases_decided', title: '办结数' },
  { key: 'cases_on_time_rate', title: '按时办结率', kind: 'rate' },
  { key: 'cases_overdue_now', title: '当前超期' },
];

export const HALL_COLUMNS: Column[] = [
  { key: 'hall_name', title: '大厅', kind: 'text' },
  { key: 'satisfaction_rate', title: '满意率', kind: 'rate' },
  { key: 'total_ratings', title: '评价数' },
  { key: 'bad_ratings', title: '差评数' },
  { key: 'rectifications', title: '整改数' },
  { key: 'complaints', title: '投诉数' },
  { key: 'appointments_due', title: '到期预约' },
  { key: 'no_shows', title: '爽约数' },
  { key: 'no_show_rate', title: '爽约率', kind: 'rate' },
];

export const WEEKLY_COLUMNS: Column[] = [
  { key: 'week_start', title: '周（周一）', kind: 'text' },
  { key: 'accepted', title: '受理' },
  { key: 'decided', title: '办结' },
  { key: 'on_time', title: '按时办结' },
  { key: 'overdue', title: '超期办结' },
];

/** A cell as the table shows it: rates as percentages with one decimal, nothing to count as 「—」. */
export function cellText(column: Column, value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (column.kind === 'rate' && typeof value === 'number') return `${(value * 100).toFixed(1)}%`;
  return String(value);
}

/** Table rows: every column's text, keyed by the column, plus a stable row key. */
export function tableRows(columns: Column[], rows: Row[], keyOf: (row: Row) => string | number): Row[] {
  return rows.map((row) => {
    const shown: Row = { key: keyOf(row) };
    for (const column of columns) shown[column.key] = cellText(column, row[column.key]);
    return shown;
  });
}

/**
 * Places ranked by one figure, best first (higher is better unless lowerIsBetter); places with no figure for the
 * period (no ratings yet) go last, in name order, instead of being ranked as zero.
 */
export function ranked<T extends Row>(rows: T[], key: string, nameKey: string, lowerIsBetter = false): T[] {
  const known = rows.filter((row) => typeof row[key] === 'number');
  const unknown = rows.filter((row) => typeof row[key] !== 'number');
  known.sort((a, b) => {
    const diff = (a[key] as number) - (b[key] as number);
    return (lowerIsBetter ? diff : -diff) || String(a[nameKey]).localeCompare(String(b[nameKey]), 'zh-CN');
  });
  unknown.sort((a, b) => String(a[nameKey]).localeCompare(String(b[nameKey]), 'zh-CN'));
  return [...known, ...unknown];
}

const WEEK_SERIES: Array<{ key: keyof WeekFigures; name: string; color: string }> = [
  { key: 'accepted', name: '受理', color: '#0052d9' },
  { key: 'decided', name: '办结', color: '#2ba471' },
  { key: 'on_time', name: '按时办结', color: '#029cd4' },
  { key: 'overdue', name: '超期办结', color: '#d54941' },
];

/** The weekly trend as ECharts lines: one line per figure, one point per week (the table's rows, in order). */
export function weeklyChartOption(weeks: WeekFigures[]) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { data: WEEK_SERIES.map((series) => series.name), top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: weeks.map((week) => week.week_start.slice(5)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: WEEK_SERIES.map((series) => ({
      name: series.name,
      type: 'line',
      color: series.color,
      data: weeks.map((week) => week[series.key] as number),
    })),
  };
}

/** A ranking as horizontal bars, the first place on top; a place with no figure is an empty bar, not a zero. */
export function rankingChartOption(rows: Row[], nameKey: string, column: Column) {
  const rate = column.kind === 'rate';
  const top = [...rows].reverse();
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: rate ? 100 : undefined, minInterval: rate ? undefined : 1 },
    yAxis: { type: 'category', data: top.map((row) => String(row[nameKey])) },
    series: [
      {
        name: column.title,
        type: 'bar',
        color: '#0052d9',
        label: { show: true, position: 'right', formatter: rate ? '{c}%' : '{c}' },
        data: top.map((row) => {
          const value = row[column.key];
          if (typeof value !== 'number') return null;
          return rate ? Math.round(value * 1000) / 10 : value;
        }),
      },
    ],
  };
}

/** An aria-label that says what the picture shows, for screen readers (the table beside it has the numbers). */
export function chartLabel(title: string, from: string, to: string): string {
  return `${title}图表（${from} 至 ${to}），数据见下方表格`;
}

/** Whether a chart has anything to draw: a period without ratings has no satisfaction to rank, only its table. */
export function hasFigures(option: { series: Array<{ data: Array<number | null> }> }): boolean {
  return option.series.some((series) => series.data.some((value) => typeof value === 'number'));
}
