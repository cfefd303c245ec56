import '../../supervision/supervision.css';
import { useEffect, useState } from 'react';
import { Alert, Button, Pagination, Table } from 'tdesign-react';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import { AUDIT_PAGE_SIZE as PAGE_SIZE, type AuditEntry, type AuditFilters, auditQuery, changesOf } from '../../supervision/admin';

const EMPTY: AuditFilters = { staff_id: '', object_type: '', object_id: '', from: '', to: '' };

function when(iso: string): string {
  return new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
}

/** The audit log: who changed what and when, with the fields before and after; filtered by staff, object and day. */
export default function AuditPage() {
  const [draft, setDraft] = useState<AuditFilters>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>(EMPTY);
  const [page, setPage] = useState(1);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setError(null);
    api.GET('/api/v1/admin/audit', { query: auditQuery(filters, page) }).then(
      (found) => {
        setEntries(found.items);
        setTotal(found.total);
      },
      (failure) => setError(apiErrorText(failure)),
    );
  }, [filters, page]);

  const field = (name: keyof AuditFilters, label: string, type = 'text', placeholder = '') => (
    <label>
      {label}
      <input type={type} value={draft[name]} placeholder={placeholder} onChange={(event) => setDraft({ ...draft, [name]: event.target.value })} />
    </label>
  );

  return (
    <section aria-labelledby="audit-title" className="admin-page">
      <h1 id="audit-title">审计日志</h1>
      <form
        className="filters"
        aria-label="筛选审计日志"
        onSubmit={(event) => {
          event.preventDefault();
          setPage(1);
          setFilters(draft);
        }}
      >
        {field('staff_id', '人员编号', 'text', '如 12')}
        {field('object_type', '对象类型', 'text', '如 case、matter、staff')}
        {field('object_id', '对象编号')}
        {field('from', '开始日期', 'date')}
        {field('to', '结束日期', 'date')}
        <Button type="submit">筛选</Button>
        <Button variant="outline" onClick={() => { setDraft(EMPTY); setFilters(EMPTY); setPage(1); }}>
          清除
        </Button>
      </form>
      {error && <Alert theme="error" message={`加载失败：${error}`} />}
      <p>共 {total} 条，最新的在前。</p>
      <Table
        rowKey="id"
        size="small"
        bordered
        data={entries}
        empty="没有符合条件的记录"
        columns={[
          { colKey: 'at', title: '时间', width: 170, cell: ({ row }) => when(row.at) },
          { colKey: 'actor', title: '操作人', width: 110, cell: ({ row }) => (row.staff_id ? `工作人员 ${row.staff_id}` : row.actor) },
          { colKey: 'action', title: '操作', width: 160 },
          { colKey: 'object', title: '对象', width: 130, cell: ({ row }) => `${row.object_type} #${row.object_id}` },
          {
            colKey: 'changes',
            title: '改前 → 改后',
            cell: ({ row }) => {
              const changes = changesOf(row);
              if (!changes.length) return '（无字段变化）';
              return (
                <ul className="changes">
                  {changes.map((change) => (
                    <li key={change.field}>
                      <code>{change.field}</code>：
                      {change.before === '（无）' ? (
                        <ins>{change.after}</ins>
                      ) : (
                        <>
                          <del>{change.before}</del> → <ins>{change.after}</ins>
                        </>
                      )}
                    </li>
                  ))}
                </ul>
              );
            },
          },
        ]}
      />
      {total > PAGE_SIZE && <Pagination total={total} pageSize={PAGE_SIZE} current={page} onCurrentChange={setPage} showPageSize={false} />}
    </section>
  );
}
