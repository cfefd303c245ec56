import type { ApiClient, Schema } from '@govhall/api-client';

export type DepartmentFigures = Schema<'DepartmentFigures'>;
export type HallFigures = Schema<'HallFigures'>;

/** One figure drawn as a bar: the words to read, and the share of the bar (0..1) or none when nothing was counted. */
export interface Bar {
  label: string;
  value: string;
  share: number | null;
  /** How the figure stands, so the bar's colour is not the only sign: 'good' | 'fair' | 'poor' | 'none'. */
  tone: 'good' | 'fair' | 'poor' | 'none';
}

/** A rate 0..1 as a percentage with one decimal; '暂无数据' when there was nothing to count. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '暂无数据';
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

function tone(rate: number | null | undefined, good: number, fair: number): Bar['tone'] {
  if (rate === null || rate === undefined) return 'none';
  if (rate >= good) return 'good';
  if (rate >= fair) return 'fair';
  return 'poor';
}

function bar(label: string, rate: number | null | undefined, good = 0.9, fair = 0.8): Bar {
  return { label, value: percent(rate), share: rate ?? null, tone: tone(rate, good, fair) };
}

/** The bars of one department or hall, most telling first (satisfaction, on time, then the rest). */
export function barsOf(figures: DepartmentFigures | HallFigures): Bar[] {
  const bars = [
    bar('满意率', figures.satisfaction_rate),
    bar('按时办结率', figures.cases_on_time_rate),
    bar('网上可办率', figures.online_capable_share, 0.8, 0.5),
    bar('零跑动事项占比', figures.zero_visit_share, 0.5, 0.2),
  ];
  if ('no_show_rate' in figures) {
    // Lower is better for no-shows: the bar shows the share of kept appointments.
    const kept = figures.no_show_rate === null ? null : 1 - figures.no_show_rate;
    bars.push(bar('预约守约率', kept));
  }
  return bars;
}

/** The counts beside the bars, as short lines. */
export function countsOf(figures: DepartmentFigures | HallFigures): string[] {
  const lines = [
    `评价 ${figures.total_ratings} 次，差评 ${figures.bad_ratings} 次`,
    figures.cases_average_days === null
      ? `办结 ${figures.cases_decided} 件，当前超期 ${figures.cases_overdue_now} 件`
      : `办结 ${figures.cases_decided} 件，平均 ${figures.cases_average_days} 天，当前超期 ${figures.cases_overdue_now} 件`,
    `投诉 ${figures.complaints} 件，整改 ${figures.rectifications} 件`,
  ];
  if ('average_wait_minutes' in figures) {
    lines.push(
      figures.average_wait_minutes === null
        ? `排队服务 ${figures.queue_served} 人次`
        : `排队平均等候 ${figures.average_wait_minutes} 分钟，服务 ${figures.queue_served} 人次`,
    );
  }
  return lines;
}

/** Both reports of the last 30 days (the API's default period), departments by satisfaction, best first. */
export async function loadFigures(client: ApiClient): Promise<{ from: string; to: string; departments: DepartmentFigures[]; halls: HallFigures[] }> {
  const [departments, halls] = await Promise.all([client.GET('/api/v1/stats/departments'), client.GET('/api/v1/stats/halls')]);
  const bySatisfaction = <T extends { satisfaction_rate: number | null }>(a: T, b: T) => (b.satisfaction_rate ?? -1) - (a.satisfaction_rate ?? -1);
  return {
    from: departments.from,
    to: departments.to,
    departments: [...departments.items].sort(bySatisfaction),
    halls: [...halls.items].sort(bySatisfaction),
  };
}
