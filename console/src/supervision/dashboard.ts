/** Loading the supervision dashboard: the red and yellow cases and the figures of one period, in parallel. */
import type { ApiClient, components } from '@govhall/api-client';
import type { DepartmentFigures, HallFigures, WeekFigures } from './figures';
import type { Period } from './period';

export type CaseSummary = components['schemas']['CaseSummaryOut'];

export interface Dashboard {
  red: CaseSummary[];
  redTotal: number;
  yellow: CaseSummary[];
  yellowTotal: number;
  weeks: WeekFigures[];
  departments: DepartmentFigures[];
  halls: HallFigures[];
}

/** How many late cases the dashboard lists per light (the total is shown; the case queue has them all). */
export const CASES_SHOWN = 50;

/**
 * Everything the dashboard shows for a period. departmentId: one department (a supervisor's choice, or a
 * department administrator's own: the backend narrows their cases and weekly series to it anyway).
 */
export async function loadDashboard(client: ApiClient, period: Period, departmentId: number | null): Promise<Dashboard> {
  const department = departmentId ?? undefined;
  const [red, yellow, weekly, departments, halls] = await Promise.all([
    client.GET('/api/v1/staff/cases', { query: { light: 'red', department_id: department, page_size: CASES_SHOWN } }),
    client.GET('/api/v1/staff/cases', { query: { light: 'yellow', department_id: department, page_size: CASES_SHOWN } }),
    client.GET('/api/v1/staff/stats/weekly', { query: { ...period, department_id: department } }),
    client.GET('/api/v1/stats/departments', { query: { ...period, department_id: department } }),
    client.GET('/api/v1/stats/halls', { query: period }),
  ]);
  return {
    red: red.items,
    redTotal: red.total,
    yellow: yellow.items,
    yellowTotal: yellow.total,
    weeks: weekly.weeks,
    departments: departments.items,
    halls: halls.items,
  };
}
