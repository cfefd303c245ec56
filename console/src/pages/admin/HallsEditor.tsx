import { useState } from 'react';
import { Alert, Button, Checkbox, Input, InputNumber, MessagePlugin, Select, Table, Tag } from 'tdesign-react';
import { api } from '../../api';
import {
  EMPTY_HALL,
  hallBody,
  hallForm,
  hallFormProblems,
  nextWindowNumber,
  servesText,
  windowBody,
  windowNumberProblem,
  type Hall,
  type HallForm,
  type HallWindow,
} from '../../admin/halls';
import { apiErrorText } from '../../session/errors';
import { useSession } from '../../session/SessionContext';
import { useLoad } from './useLoad';

interface MatterItem {
  id: number;
  name: string;
}

/**
 * 大厅与窗口: the halls this department runs (an admin: every hall), their details and their windows. Every hall is
 * shown to the citizen as it is saved here; a window serving a number (or the last open one while numbers wait)
 * is not closed: the server says why.
 */
export default function HallsEditor({ allHalls, matters, onChanged }: { allHalls: Hall[]; matters: MatterItem[]; onChanged(): void }) {
  const { staff } = useSession();
  const isAdmin = Boolean(staff?.roles.includes('admin'));
  const loaded = useLoad(async () => {
    const [halls, departments] = await Promise.all([
      api.GET('/api/v1/admin/halls', { query: { page_size: 100 } }),
      api.GET('/api/v1/departments', { query: { page_size: 100 } }),
    ]);
    return { halls: halls.items, departments: departments.items };
  }, []);
  const [editing, setEditing] = useState<Hall | 'new' | null>(null);
  const [form, setForm] = useState<HallForm>(EMPTY_HALL);
  const [problem, setProblem] = useState<string | null>(null);

  if (loaded.error) return <Alert theme="error" message={loaded.error} />;
  if (!loaded.data) return <p>正在加载大厅…</p>;
  const { halls, departments } = loaded.data;
  const departmentName = (id: number) => departments.find((d) => d.id === id)?.name ?? `部门 ${id}`;
  const current = editing && editing !== 'new' ? halls.find((hall) => hall.id === editing.id) ?? null : null;

  function reload() {
    loaded.reload();
    onChanged();
  }

  function open(hall: Hall | 'new') {
    setEditing(hall);
    setForm(hall === 'new' ? EMPTY_HALL : hallForm(hall));
    setProblem(null);
  }

  async function save() {
    const problems = hallFormProblems(form);
    if (problems.length) return setProblem(problems.join(''));
    const departmentId = isAdmin ? (current?.department_id ?? null) : (staff?.department_id ?? null);
    try {
      if (editing === 'new') {
        const created = await api.POST('/api/v1/admin/halls', { body: hallBody(form, null, departmentId) });
        MessagePlugin.success(`已新建大厅「${created.name}」，请为它添加窗口。`);
        setEditing(created);
      } else if (current) {
        await api.PUT('/api/v1/admin/halls/{hall_id}', { path: { hall_id: current.id }, body: hallBody(form, current, departmentId) });
        MessagePlugin.success('大厅信息已保存，群众端即时可见。');
      }
      setProblem(null);
      reload();
    } catch (failure) {
      setProblem(apiErrorText(failure));
    }
  }

  async function remove(hall: Hall) {
    try {
      await api.DELETE('/api/v1/admin/halls/{hall_id}', { path: { hall_id: hall.id } });
      MessagePlugin.success(`已删除大厅「${hall.name}」。`);
      setEditing(null);
      reload();
    } catch (failure) {
      setProblem(apiErrorText(failure));
    }
  }

  const field = (key: keyof HallForm, label: string, hint?: string) => (
    <label className="field">
      <span>{label}</span>
      <Input value={form[key]} placeholder={hint} onChange={(value) => setForm({ ...form, [key]: String(value) })} />
    </label>
  );

  return (
    <>
      <h2>{isAdmin ? '大厅与窗口' : '本部门管理的大厅与窗口'}</h2>
      <Table
        rowKey="id"
        data={halls}
        empty={isAdmin ? '还没有大厅' : '本部门还没有管理的大厅，可以新建一个'}
        columns={[
          { colKey: 'name', title: '大厅', width: 240 },
          { colKey: 'address', title: '地址' },
          { colKey: 'opening_hours', title: '办公时间' },
          {
            colKey: 'windows',
            title: '窗口',
            width: 130,
            cell: ({ row }) => `${(row.service_windows ?? []).filter((w) => w.open).length} 开放 / 共 ${row.windows}`,
          },
          {
            colKey: 'edit',
            title: '操作',
            width: 110,
            cell: ({ row }) => (
              <Button variant="text" theme="primary" aria-label={`编辑大厅「${row.name}」`} onClick={() => open(row)}>
                编辑
              </Button>
            ),
          },
        ]}
      />
      {editing === null && (
        <div className="actions">
          <Button onClick={() => open('new')}>新建大厅</Button>
        </div>
      )}
      {editing !== null && (
        <section className="hall-editor" aria-labelledby="hall-editor-title">
          <h3 id="hall-editor-title">{editing === 'new' ? '新建大厅' : `编辑大厅：${current?.name ?? ''}`}</h3>
          <div className="form-grid">
            {field('code', '大厅编码', '如 JB-01')}
            {field('name', '大厅名称')}
            {field('district', '所在区县')}
            {field('address', '地址')}
            {field('openingHours', '办公时间', '如：周一至周五 09:00-12:00, 13:30-17:30')}
            {field('phone', '咨询电话')}
          </div>
          <div role="alert" aria-live="polite">{problem && <Alert theme="error" message={problem} />}</div>
          <div className="actions">
            <Button theme="primary" onClick={save}>{editing === 'new' ? '新建大厅' : '保存大厅信息'}</Button>
            <Button variant="outline" onClick={() => setEditing(null)}>收起</Button>
            {current && (
              <Button variant="outline" theme="danger" onClick={() => remove(current)}>删除大厅</Button>
            )}
          </div>
          {current && (
            <WindowsEditor hall={current} departments={departments} matters={matters} departmentName={departmentName} onChanged={reload} />
          )}
        </section>
      )}
      {allHalls.length > halls.length && !isAdmin && (
        <p className="muted">其他大厅由其运营部门或系统管理员维护；排班可以设在任一办理本部门事项的大厅。</p>
      )}
    </>
  );
}

function WindowsEditor({
  hall,
  departments,
  matters,
  departmentName,
  onChanged,
}: {
  hall: Hall;
  departments: Array<{ id: number; name: string }>;
  matters: MatterItem[];
  departmentName(id: number): string;
  onChanged(): void;
}) {
  const windows = hall.service_windows ?? [];
  const [number, setNumber] = useState(nextWindowNumber(windows));
  const [name, setName] = useState('');
  const [departmentId, setDepartmentId] = useState<number | null>(null);
  const [matterIds, setMatterIds] = useState<number[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  async function act(work: () => Promise<unknown>, done: string) {
    try {
      await work();
      MessagePlugin.success(done);
      setProblem(null);
      onChanged();
    } catch (failure) {
      setProblem(apiErrorText(failure));
    }
  }

  async function add() {
    const clash = windowNumberProblem(number, windows);
    if (clash) return setProblem(clash);
    await act(
      () =>
        api.POST('/api/v1/admin/halls/{hall_id}/windows', {
          path: { hall_id: hall.id },
          body: { number, name: name.trim() || `${number} 号窗口`, department_id: departmentId, matter_ids: matterIds, open: true },
        }),
      `已添加 ${number} 号窗口。`,
    );
    setNumber(Math.max(number, nextWindowNumber(windows)) + 1);
    setName('');
    setMatterIds([]);
  }

  const toggle = (window: HallWindow) =>
    act(
      () =>
        api.PUT('/api/v1/admin/halls/{hall_id}/windows/{window_id}', {
          path: { hall_id: hall.id, window_id: window.id },
          body: windowBody(window, { open: !window.open }),
        }),
      window.open ? `${window.number} 号窗口已关闭，不再叫号。` : `${window.number} 号窗口已开放。`,
    );

  const remove = (window: HallWindow) =>
    act(
      () => api.DELETE('/api/v1/admin/halls/{hall_id}/windows/{window_id}', { path: { hall_id: hall.id, window_id: window.id } }),
      `已删除 ${window.number} 号窗口。`,
    );

  return (
    <>
      <h3>窗口</h3>
      <Table
        rowKey="id"
        data={windows}
        empty="还没有设置窗口（叫号按大厅的窗口数）"
        columns={[
          { colKey: 'number', title: '编号', width: 80, cell: ({ row }) => `${row.number} 号` },
          { colKey: 'name', title: '名称' },
          { colKey: 'serves', title: '服务部门与事项', cell: ({ row }) => servesText(row, departmentName) },
          {
            colKey: 'open',
            title: '状态',
            width: 90,
            cell: ({ row }) => (row.open ? <Tag theme="success" variant="light">开放</Tag> : <Tag variant="light">已关闭</Tag>),
          },
          {
            colKey: 'actions',
            title: '操作',
            width: 150,
            cell: ({ row }) => (
              <span className="row-actions">
                <Button variant="text" theme={row.open ? 'danger' : 'primary'} aria-label={`${row.open ? '关闭' : '开放'} ${row.number} 号窗口`} onClick={() => toggle(row)}>
                  {row.open ? '关闭' : '开放'}
                </Button>
                <Button variant="text" theme="danger" aria-label={`删除 ${row.number} 号窗口`} onClick={() => remove(row)}>
                  删除
                </Button>
              </span>
            ),
          },
        ]}
      />
      <div className="form-grid">
        <label className="field">
          <span>窗口编号</span>
          <InputNumber min={1} max={999} value={number} onChange={(value) => setNumber(Number(value))} />
        </label>
        <label className="field">
          <span>窗口名称</span>
          <Input value={name} maxlength={32} placeholder={`如：${number} 号综合窗口`} onChange={(value) => setName(String(value))} />
        </label>
        <label className="field">
          <span>服务部门</span>
          <Select
            value={departmentId ?? 0}
            onChange={(value) => setDepartmentId(Number(value) || null)}
            options={[{ label: '综合窗口（所有部门）', value: 0 }, ...departments.map((d) => ({ label: d.name, value: d.id }))]}
          />
        </label>
      </div>
      {matters.length > 0 && (
        <fieldset className="checks">
          <legend>只办理这些事项（不选：该部门的所有事项）</legend>
          {matters.map((matter) => (
            <Checkbox
              key={matter.id}
              checked={matterIds.includes(matter.id)}
              onChange={(checked) => setMatterIds(checked ? [...matterIds, matter.id] : matterIds.filter((id) => id !== matter.id))}
            >
              {matter.name}
            </Checkbox>
          ))}
        </fieldset>
      )}
      <div role="alert" aria-live="polite">{problem && <Alert theme="error" message={problem} />}</div>
      <Button onClick={add}>添加窗口</Button>
    </>
  );
}
