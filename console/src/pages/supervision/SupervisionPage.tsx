import '../../supervision/supervision.css';
import { useEffect, useMemo, useState } from 'react';
import { Alert, Loading, Radio, Table, Tag } from 'tdesign-react';
import { Link } from 'react-router-dom';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import { useSession } from '../../session/SessionContext';
import { type CaseSummary, CASES_SHOWN, type Dashboard, loadDashboard } from '../../supervision/dashboard';
import {
  DEPARTMENT_COLUMNS,
  HALL_COLUMNS,
  WEEKLY_COLUMNS,
  chartLabel,
  rankingChartOption,
  ranked,
  tableRows,
  weeklyChartOption,
  type Row,
} from '../../supervision/figures';
import { PRESETS, lastDays, periodProblem, type Period } from '../../supervision/period';
import FigureSection from './FigureSection';

const LIGHT = { red: { theme: 'danger', text: '红灯·已超期' }, yellow: { theme: 'warning', text: '黄灯·将到期' } } as const;

function deadlineText(iso: string | null): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short', hour12: false });
}

function LateCases({ light, cases, total }: { light: 'red' | 'yellow'; cases: CaseSummary[]; total: number }) {
  const id = `${light}-cases`;
  return (
    <section className="figure-section" aria-labelledby={`${id}-title`} data-testid={id}>
      <h2 id={`${id}-title`}>
        <Tag theme={LIGHT[light].theme} variant="dark">
          {LIGHT[light].text}
        </Tag>{' '}
        {total} 件{total > cases.length ? `（显示最紧急的 ${cases.length} 件，全部见办件队列）` : ''}
      </h2>
      <Table
        rowKey="id"
        size="small"
        bordered
        data={cases}
        empty={light === 'red' ? '没有超期的办件' : '没有将到期的办件'}
        columns={[
          { colKey: 'receipt_no', title: '受理号', cell: ({ row }) => <Link to={`/cases/${row.id}`}>{row.receipt_no ?? `办件 ${row.id}`}</Link> },
          { colKey: 'matter_name', title: '事项' },
          { colKey: 'department_name', title: '部门' },
          { colKey: 'applicant_name', title: '申请人' },
          { colKey: 'deadline', title: '办结时限', cell: ({ row }) => deadlineText(row.deadline) },
        ]}
      />
    </section>
  );
}

/** The supervisor's dashboard (a department administrator's: their own department): late cases and the figures. */
export default function SupervisionPage() {
  const { staff } = useSession();
  const allDepartments = Boolean(staff?.roles.some((role) => role === 'supervisor' || role === 'admin'));
  const ownDepartment = allDepartments ? null : (staff?.department_id ?? null);
  const [preset, setPreset] = useState<string>('84');
  const [period, setPeriod] = useState<Period>(() => lastDays(84));
  const [draft, setDraft] = useState<Period>(period);
  const [data, setData] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const problem = periodProblem(draft);

  useEffect(() => {
    let current = true;
    setError(null);
    loadDashboard(api, period, ownDepartment).then(
      (found) => current && setData(found),
      (failure) => current && setError(apiErrorText(failure)),
    );
    return () => {
      current = false;
    };
  }, [period, ownDepartment]);

  const figures = useMemo(() => {
    if (!data) return null;
    const departments = ranked(data.departments as unknown as Row[], 'satisfaction_rate', 'department_name');
    const halls = ranked(data.halls as unknown as Row[], 'satisfaction_rate', 'hall_name');
    const noShows = ranked(data.halls as unknown as Row[], 'no_shows', 'hall_name');
    return {
      weekly: { chart: weeklyChartOption(data.weeks), rows: tableRows(WEEKLY_COLUMNS, data.weeks as unknown as Row[], (row) => String(row.week_start)) },
      departments: {
        chart: rankingChartOption(departments, 'department_name', DEPARTMENT_COLUMNS[1]),
        rows: tableRows(DEPARTMENT_COLUMNS, departments, (row) => Number(row.department_id)),
      },
      halls: {
        chart: rankingChartOption(halls, 'hall_name', HALL_COLUMNS[1]),
        rows: tableRows(HALL_COLUMNS, halls, (row) => Number(row.hall_id)),
      },
      noShows: {
        chart: rankingChartOption(noShows, 'hall_name', HALL_COLUMNS[7]),
        rows: tableRows(HALL_COLUMNS, noShows, (row) => Number(row.hall_id)),
      },
    };
  }, [data]);

  function choosePreset(value: string) {
    setPreset(value);
    const days = PRESETS.find((item) => item.value === value)?.days;
    if (days) {
      const next = lastDays(days);
      setDraft(next);
      setPeriod(next);
    }
  }

  function chooseDay(which: keyof Period, value: string) {
    const next = { ...draft, [which]: value };
    setDraft(next);
    setPreset('custom');
    if (!periodProblem(next)) setPeriod(next);
  }

  const common = { period, departmentId: ownDepartment };
  return (
    <section aria-labelledby="supervision-title" className="supervision">
      <h1 id="supervision-title">监督看板{allDepartments ? '（全市各部门）' : '（本部门）'}</h1>
      <fieldset className="period-picker">
        <legend>统计区间</legend>
        <Radio.Group variant="default-filled" value={preset} onChange={(value) => choosePreset(String(value))}>
          {PRESETS.map((item) => (
            <Radio.Button key={item.value} value={item.value}>
              {item.label}
            </Radio.Button>
          ))}
        </Radio.Group>
        <label>
          开始日期 <input type="date" value={draft.from} onChange={(event) => chooseDay('from', event.target.value)} />
        </label>
        <label>
          结束日期 <input type="date" value={draft.to} onChange={(event) => chooseDay('to', event.target.value)} />
        </label>
      </fieldset>
      {problem && <Alert theme="warning" message={problem} />}
      {error && <Alert theme="error" message={`加载失败：${error}`} />}
      {!data && !error && <Loading text="正在统计…" />}
      {data && figures && (
        <>
          <div>
            <LateCases light="red" cases={data.red} total={data.redTotal} />
            <LateCases light="yellow" cases={data.yellow} total={data.yellowTotal} />
          </div>
          <FigureSection
            id="weekly"
            title="每周受理与办结"
            chart={figures.weekly.chart}
            chartLabel={chartLabel('每周受理、办结、按时办结、超期办结件数折线', period.from, period.to)}
            columns={WEEKLY_COLUMNS}
            rows={figures.weekly.rows}
            report="weekly"
            {...common}
          />
          <FigureSection
            id="departments"
            title="各部门满意率、整改与投诉（按满意率排名）"
            chart={figures.departments.chart}
            chartLabel={chartLabel('各部门满意率排名柱状', period.from, period.to)}
            columns={DEPARTMENT_COLUMNS}
            rows={figures.departments.rows}
            report="departments"
            note="满意率：评价 3–5 星（含默认好评）占全部评价；本期无评价的部门排在最后。"
            {...common}
          />
          <FigureSection
            id="halls"
            title="各大厅满意率、整改与投诉（按满意率排名）"
            chart={figures.halls.chart}
            chartLabel={chartLabel('各大厅满意率排名柱状', period.from, period.to)}
            columns={HALL_COLUMNS}
            rows={figures.halls.rows}
            report="halls"
            {...common}
            departmentId={null}
          />
          <FigureSection
            id="no-shows"
            title="各大厅预约爽约（按爽约数排名）"
            chart={figures.noShows.chart}
            chartLabel={chartLabel('各大厅预约爽约数排名柱状', period.from, period.to)}
            columns={HALL_COLUMNS}
            rows={figures.noShows.rows}
            report="halls"
            {...common}
            departmentId={null}
          />
        </>
      )}
      <p className="figure-note">以上统计与市民端「政务服务评价公开」为同一数据（{CASES_SHOWN} 件以内的超期清单按时限先后排列）。</p>
    </section>
  );
}
