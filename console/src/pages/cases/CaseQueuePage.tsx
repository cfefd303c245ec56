import './cases.css';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Alert, Button, Input, Pagination, Select, Table, Tag } from 'tdesign-react';
import { Link } from 'react-router-dom';
import { useCaseQueue } from '../../cases/hooks';
import { LIGHT_NAMES, STATUS_NAMES, formatDay, withFilter, type CaseSummary, type Light } from '../../cases/service';

const LIGHT_THEMES: Record<Light, 'success' | 'warning' | 'danger'> = { green: 'success', yellow: 'warning', red: 'danger' };
const STATUS_OPTIONS = [{ label: '全部状态', value: '' }].concat(
  Object.entries(STATUS_NAMES)
    .filter(([value]) => value !== 'draft')
    .map(([value, label]) => ({ label, value })),
);

/** The queue of my department's cases (supervisors: all), the most urgent deadline first. */
export default function CaseQueuePage() {
  const { filters, setFilters, page, error, loading } = useCaseQueue();
  const [search, setSearch] = useState(filters.search);
  const counts = page?.light_counts;

  function find(event: FormEvent) {
    event.preventDefault();
    setFilters(withFilter(filters, { search }));
  }

  const columns = [
    {
      colKey: 'receipt_no',
      title: '受理编号',
      cell: ({ row }: { row: CaseSummary }) => (
        <Link to={`/cases/${row.id}`}>{row.receipt_no ?? `未受理（第 ${row.id} 号）`}</Link>
      ),
    },
    { colKey: 'matter_name', title: '事项' },
    { colKey: 'applicant_name', title: '申请人' },
    { colKey: 'status', title: '状态', cell: ({ row }: { row: CaseSummary }) => STATUS_NAMES[row.status] ?? row.status },
    {
      colKey: 'light',
      title: '亮灯',
      cell: ({ row }: { row: CaseSummary }) =>
        row.light ? <Tag theme={LIGHT_THEMES[row.light]} variant="light">{LIGHT_NAMES[row.light]}</Tag> : '—',
    },
    { colKey: 'deadline', title: '办结时限', cell: ({ row }: { row: CaseSummary }) => formatDay(row.deadline) },
    { colKey: 'submitted_at', title: '提交日期', cell: ({ row }: { row: CaseSummary }) => formatDay(row.submitted_at) },
  ];

  return (
    <section className="case-queue">
      <h1>办件队列</h1>
      <div className="light-counts" aria-label="在办件亮灯统计">
        {(['red', 'yellow', 'green'] as Light[]).map((light) => (
          <button
            type="button"
            key={light}
            className={`light-count light-${light}${filters.light === light ? ' chosen' : ''}`}
            aria-pressed={filters.light === light}
            onClick={() => setFilters(withFilter(filters, { light: filters.light === light ? '' : light }))}
          >
            <span className="light-dot" aria-hidden="true" />
            {LIGHT_NAMES[light]} <strong data-testid={`count-${light}`}>{counts ? counts[light] : '…'}</strong> 件
          </button>
        ))}
      </div>
      <form className="queue-filters" onSubmit={find} role="search" aria-label="筛选办件">
        <label className="field">
          <span>状态</span>
          <Select
            value={filters.status}
            options={STATUS_OPTIONS}
            onChange={(value) => setFilters(withFilter(filters, { status: String(value ?? '') }))}
            style={{ width: 160 }}
          />
        </label>
        <label className="field">
          <span>受理编号或申请人</span>
          <Input value={search} onChange={(value) => setSearch(String(value))} placeholder="如 RS-20261201-0001 或 张三" clearable style={{ width: 260 }} />
        </label>
        <Button type="submit" theme="primary">查询</Button>
        {(filters.status || filters.light || filters.search) && (
          <Button
            variant="outline"
            onClick={() => {
              setSearch('');
              setFilters(withFilter(filters, { status: '', light: '', search: '' }));
            }}
          >
            清除筛选
          </Button>
        )}
      </form>
      <div role="alert">{error && <Alert theme="error" message={error} />}</div>
      <Table
        rowKey="id"
        data={page?.items ?? []}
        columns={columns}
        loading={loading}
        empty="没有符合条件的办件"
        bordered
        stripe
      />
      {page && page.total > 0 && (
        <Pagination
          className="queue-pages"
          total={page.total}
          current={filters.page}
          pageSize={filters.pageSize}
          pageSizeOptions={[10, 20, 50]}
          onChange={({ current, pageSize }) =>
            setFilters(pageSize !== filters.pageSize ? { ...filters, pageSize, page: 1 } : { ...filters, page: current })
          }
        />
      )}
    </section>
  );
}
