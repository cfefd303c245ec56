import { describe, expect, it } from 'vitest';
import { createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport, TransportRequest } from '@govhall/api-client';
import {
  DEPARTMENT_COLUMNS,
  HALL_COLUMNS,
  WEEKLY_COLUMNS,
  cellText,
  hasFigures,
  rankingChartOption,
  ranked,
  tableRows,
  weeklyChartOption,
  type Row,
  type WeekFigures,
} from '../src/supervision/figures';
import { exportUrl, fileNameOf } from '../src/supervision/download';
import { lastDays, periodProblem } from '../src/supervision/period';
import { auditQuery, changesOf, deliveryReason, differenceRows, fenOf, refundErrorText, yuan } from '../src/supervision/admin';
import { loadDashboard } from '../src/supervision/dashboard';

const weeks: WeekFigures[] = [
  { week_start: '2026-11-02', accepted: 4, decided: 3, on_time: 2, overdue: 1 },
  { week_start: '2026-11-09', accepted: 0, decided: 0, on_time: 0, overdue: 0 },
  { week_start: '2026-11-16', accepted: 7, decided: 5, on_time: 5, overdue: 0 },
];

describe('the weekly trend', () => {
  it('draws one point per week per figure, the same numbers as the table rows in the same order', () => {
    const option = weeklyChartOption(weeks);
    const rows = tableRows(WEEKLY_COLUMNS, weeks as unknown as Row[], (row) => String(row.week_start));
    expect(option.xAxis.data).toEqual(['11-02', '11-09', '11-16']);
    expect(option.series.map((series) => series.name)).toEqual(WEEKLY_COLUMNS.slice(1).map((column) => column.title));
    for (const [index, series] of option.series.entries()) {
      const column = WEEKLY_COLUMNS[index + 1];
      expect(series.data.map(String)).toEqual(rows.map((row) => row[column.key]));
    }
    expect(rows[2]).toEqual({ key: '2026-11-16', week_start: '2026-11-16', accepted: '7', decided: '5', on_time: '5', overdue: '0' });
  });
});

describe('rankings', () => {
  const departments = [
    { department_id: 1, department_name: '公安局', satisfaction_rate: 0.9, complaints: 2 },
    { department_id: 2, department_name: '民政局', satisfaction_rate: null, complaints: 0 },
    { department_id: 3, department_name: '税务局', satisfaction_rate: 0.975, complaints: 1 },
  ];

  it('ranks the best first and puts a department without ratings last instead of at zero', () => {
    expect(ranked(departments, 'satisfaction_rate', 'department_name').map((row) => row.department_id)).toEqual([3, 1, 2]);
    expect(ranked(departments, 'complaints', 'department_name', true).map((row) => row.department_id)).toEqual([2, 3, 1]);
  });

  it('draws the bars as percentages, first place on top, and the table shows the same rates', () => {
    const order = ranked(departments, 'satisfaction_rate', 'department_name');
    const option = rankingChartOption(order, 'department_name', DEPARTMENT_COLUMNS[1]);
    expect(option.yAxis.data).toEqual(['民政局', '公安局', '税务局']);
    expect(option.series[0].data).toEqual([null, 90, 97.5]);
    const rows = tableRows(DEPARTMENT_COLUMNS, order, (row) => Number(row.department_id));
    expect(rows.map((row) => row.satisfaction_rate)).toEqual(['97.5%', '90.0%', '—']);
    expect(hasFigures(option)).toBe(true);
  });

  it('has nothing to draw when no place has the figure, but zero counts are drawn', () => {
    const unrated = [{ department_id: 2, department_name: '民政局', satisfaction_rate: null, complaints: 0 }];
    expect(hasFigures(rankingChartOption(unrated, 'department_name', DEPARTMENT_COLUMNS[1]))).toBe(false);
    expect(hasFigures(rankingChartOption(unrated, 'department_name', DEPARTMENT_COLUMNS[6]))).toBe(true);
  });

  it('counts stay counts: no-shows per hall', () => {
    const halls = [
      { hall_id: 1, hall_name: '市民中心', no_shows: 3 },
      { hall_id: 2, hall_name: '东区分厅', no_shows: 8 },
    ];
    const option = rankingChartOption(ranked(halls, 'no_shows', 'hall_name'), 'hall_name', HALL_COLUMNS[7]);
    expect(option.yAxis.data).toEqual(['市民中心', '东区分厅']);
    expect(option.series[0].data).toEqual([3, 8]);
    expect(cellText(HALL_COLUMNS[8], 0.125)).toBe('12.5%');
    expect(cellText(HALL_COLUMNS[7], 0)).toBe('0');
  });
});

describe('the period and exports', () => {
  it('counts the last days in the city, today included', () => {
    // 17:00 UTC is already the next day in Linjiang.
    expect(lastDays(30, new Date('2026-11-30T17:00:00Z'))).toEqual({ from: '2026-11-02', to: '2026-12-01' });
  });

  it('explains a range the backend would refuse', () => {
    expect(periodProblem({ from: '2026-11-05', to: '2026-11-01' })).toContain('晚于');
    expect(periodProblem({ from: '2025-01-01', to: '2026-11-01' })).toContain('366');
    expect(periodProblem({ from: '', to: '2026-11-01' })).toContain('请选择');
    expect(periodProblem({ from: '2026-01-01', to: '2026-12-31' })).toBeNull();
  });

  it('asks the export for the period and department on screen, and keeps the server file name', () => {
    expect(exportUrl('weekly', 'xlsx', { from: '2026-11-01', to: '2026-11-30' }, 5)).toBe(
      '/api/v1/staff/stats/export?report=weekly&format=xlsx&from=2026-11-01&to=2026-11-30&department_id=5',
    );
    expect(exportUrl('halls', 'csv', { from: '2026-11-01', to: '2026-11-30' }, null)).not.toContain('department_id');
    expect(fileNameOf('attachment; filename="halls-2026-11-01-2026-11-30.csv"', 'x.csv')).toBe('halls-2026-11-01-2026-11-30.csv');
    expect(fileNameOf(null, 'x.csv')).toBe('x.csv');
  });

  it('names the same columns as the backend export headings', () => {
    expect(WEEKLY_COLUMNS.map((column) => column.title)).toEqual(['周（周一）', '受理', '办结', '按时办结', '超期办结']);
    expect(DEPARTMENT_COLUMNS[0].title).toBe('部门');
    expect(HALL_COLUMNS.map((column) => column.key)).toContain('no_shows');
  });
});

describe('loadDashboard', () => {
  it('asks red and yellow cases, the weekly series and both public reports for one period', async () => {
    const sent: TransportRequest[] = [];
    const transport: Transport = async (request) => {
      sent.push(request);
      if (request.url.includes('/staff/cases')) return { status: 200, body: { items: [], total: request.url.includes('red') ? 3 : 1, page: 1, page_size: 50 } };
      if (request.url.includes('/weekly')) return { status: 200, body: { from: 'a', to: 'b', department_id: 4, generated_at: 'c', weeks } };
      return { status: 200, body: { from: 'a', to: 'b', generated_at: 'c', items: [] } };
    };
    const client = createClient({ baseUrl: '', transport, tokens: memoryTokenStore('t') });
    const found = await loadDashboard(client, { from: '2026-11-01', to: '2026-11-30' }, 4);
    expect(found.redTotal).toBe(3);
    expect(found.yellowTotal).toBe(1);
    expect(found.weeks).toEqual(weeks);
    const urls = sent.map((request) => request.url);
    expect(urls.filter((url) => url.includes('department_id=4'))).toHaveLength(4);
    expect(urls.some((url) => url.startsWith('/api/v1/stats/halls?') && url.includes('from=2026-11-01'))).toBe(true);
  });
});

describe('administration', () => {
  it('shows only the fields an audit entry changed', () => {
    expect(changesOf({ before: { status: 'submitted', version: 1, note: 'x' }, after: { status: 'accepted', version: 2, note: 'x' } })).toEqual([
      { field: 'status', before: 'submitted', after: 'accepted' },
      { field: 'version', before: '1', after: '2' },
    ]);
    expect(changesOf({ before: null, after: { roles: ['clerk'] } })).toEqual([{ field: 'roles', before: '（无）', after: '["clerk"]' }]);
  });

  it('sends only the audit filters filled in', () => {
    expect(auditQuery({ staff_id: ' 12 ', object_type: 'case', object_id: '', from: '2026-11-01', to: '' }, 2)).toEqual({
      page: 2,
      page_size: 20,
      staff_id: 12,
      object_type: 'case',
      object_id: undefined,
      from: '2026-11-01',
      to: undefined,
    });
    expect(auditQuery({ staff_id: 'abc', object_type: ' ', object_id: '', from: '', to: '' }, 1).staff_id).toBeUndefined();
  });

  it('says why a push failed and what to do', () => {
    expect(deliveryReason({ status: 'dead', attempts: 5, last_error: '43101' })).toBe('重试 5 次仍失败：43101。平台恢复后可点「重试」。');
    expect(deliveryReason({ status: 'no_credit', attempts: 0, last_error: '' })).toContain('没有订阅');
  });

  it('turns reconciliation differences into rows with both amounts in yuan', () => {
    const rows = differenceRows([
      {
        id: 9,
        date: '2026-11-30',
        channel: 'wechat',
        summary: {},
        created_at: 'x',
        differences: [{ kind: 'amount', order_no: 'P1', their_fen: 1250, our_fen: 1200 }, { kind: 'refunded_here_not_there', refund_no: 'R2', our_fen: 300 }],
      },
    ]);
    expect(rows).toEqual([
      { key: '9-0', channel: '微信', kind: '付款金额不一致', number: 'P1', theirs: '¥12.50', ours: '¥12.00' },
      { key: '9-1', channel: '微信', kind: '本系统记为已退，平台账单没有', number: 'R2', theirs: '—', ours: '¥3.00' },
    ]);
  });

  it('reads yuan as integer fen and refuses what is not an amount', () => {
    expect(fenOf('12.5')).toBe(1250);
    expect(fenOf('0.07')).toBe(7);
    expect(fenOf('3')).toBe(300);
    expect(fenOf('1.234')).toBeNull();
    expect(fenOf('0')).toBeNull();
    expect(fenOf('-1')).toBeNull();
    expect(yuan(5)).toBe('¥0.05');
    expect(refundErrorText('REFUND_EXCEEDS_PAID', 'x')).toContain('减少金额');
    expect(refundErrorText('SOMETHING_ELSE', '原文')).toBe('原文');
  });
});
