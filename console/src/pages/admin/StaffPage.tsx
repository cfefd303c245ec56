import { useState } from 'react';
import { Alert, Button, Checkbox, Dialog, Input, MessagePlugin, Select, Table, Tag } from 'tdesign-react';
import { api } from '../../api';
import { staffFormProblems, temporaryPassword, type StaffForm } from '../../admin/staff';
import { apiErrorText } from '../../session/errors';
import { ROLE_NAMES, type Role } from '../../session/roles';
import type { Schema } from '@govhall/api-client';
import { useLoad } from './useLoad';

type Account = Schema<'StaffAdminOut'>;
const ROLES = Object.keys(ROLE_NAMES) as Role[];
const EMPTY: StaffForm = { username: '', name: '', password: '', roles: ['clerk'], departmentId: null };

/** 账号管理 (admin): open accounts, change roles and department, reset passwords, close accounts. */
export default function StaffPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const accounts = useLoad(
    () => api.GET('/api/v1/admin/staff', { query: { page, page_size: 20, ...(search.trim() ? { q: search.trim() } : {}) } }),
    [page, search],
  );
  const departments = useLoad(() => api.GET('/api/v1/departments', { query: { page_size: 100 } }), []);
  const [form, setForm] = useState<StaffForm | null>(null);
  const [editing, setEditing] = useState<Account | null>(null);
  const [closing, setClosing] = useState<Account | null>(null);
  const [password, setPassword] = useState<{ who: string; value: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const departmentName = (id: number | null) =>
    id === null ? '全市' : departments.data?.items.find((d) => d.id === id)?.name ?? `部门 ${id}`;

  function open(account: Account | null) {
    setEditing(account);
    setProblem(null);
    setForm(account ? { username: account.username, name: account.name, password: '', roles: account.roles as Role[], departmentId: account.department_id } : { ...EMPTY });
  }

  async function submit() {
    if (!form) return;
    const problems = staffFormProblems(form, editing === null);
    if (problems.length) return setProblem(problems.join(''));
    try {
      if (editing) {
        await api.PATCH('/api/v1/admin/staff/{staff_id}', {
          path: { staff_id: editing.id },
          body: { name: form.name.trim(), roles: form.roles, department_id: form.departmentId },
        });
        MessagePlugin.success(`已保存「${form.name}」的账号；其当前登录已失效，需重新登录。`);
      } else {
        await api.POST('/api/v1/admin/staff', {
          body: { username: form.username.trim(), name: form.name.trim(), password: form.password, roles: form.roles, department_id: form.departmentId },
        });
        MessagePlugin.success(`已开通账号 ${form.username}。`);
      }
      setForm(null);
      accounts.reload();
    } catch (failure) {
      setProblem((failure as { status?: number }).status === 409 ? '该用户名已被使用，请换一个。' : apiErrorText(failure));
    }
  }

  async function patch(account: Account, body: { is_active?: boolean; password?: string }, done: string) {
    try {
      await api.PATCH('/api/v1/admin/staff/{staff_id}', { path: { staff_id: account.id }, body });
      MessagePlugin.success(done);
      accounts.reload();
      return true;
    } catch (failure) {
      MessagePlugin.error(apiErrorText(failure));
      return false;
    }
  }

  async function resetPassword(account: Account) {
    const value = temporaryPassword();
    if (await patch(account, { password: value }, `已重置「${account.name}」的密码。`)) setPassword({ who: account.name, value });
  }

  return (
    <section>
      <div className="page-title">
        <h1>账号管理</h1>
        <Button theme="primary" onClick={() => open(null)}>开通账号</Button>
      </div>
      <p className="page-lead">修改角色、部门、密码或停用账号后，此人的登录立即失效。</p>
      <label className="field-inline search">
        <span>查找账号</span>
        <Input value={search} clearable placeholder="用户名或姓名" onChange={(value) => { setSearch(String(value)); setPage(1); }} style={{ width: 260 }} />
      </label>
      {accounts.error && <Alert theme="error" message={accounts.error} />}
      <Table
        rowKey="id"
        loading={!accounts.data && !accounts.error}
        data={accounts.data?.items ?? []}
        empty="没有符合条件的账号"
        pagination={{ current: page, pageSize: 20, total: accounts.data?.total ?? 0, showPageSize: false, onCurrentChange: setPage }}
        columns={[
          { colKey: 'username', title: '用户名', width: 150 },
          { colKey: 'name', title: '姓名', width: 110 },
          { colKey: 'roles', title: '角色', cell: ({ row }) => row.roles.map((role) => ROLE_NAMES[role as Role] ?? role).join('、') },
          { colKey: 'department_id', title: '部门', cell: ({ row }) => departmentName(row.department_id) },
          {
            colKey: 'is_active',
            title: '状态',
            width: 90,
            cell: ({ row }) => (row.is_active ? <Tag theme="success" variant="light">在用</Tag> : <Tag variant="light">已停用</Tag>),
          },
          {
            colKey: 'actions',
            title: '操作',
            width: 240,
            cell: ({ row }) => (
              <span className="row-actions">
                <Button variant="text" theme="primary" aria-label={`修改「${row.name}」`} onClick={() => open(row)}>修改</Button>
                <Button variant="text" theme="primary" aria-label={`重置密码「${row.name}」`} onClick={() => resetPassword(row)}>重置密码</Button>
                {row.is_active ? (
                  <Button variant="text" theme="danger" aria-label={`停用「${row.name}」`} onClick={() => setClosing(row)}>停用</Button>
                ) : (
                  <Button variant="text" theme="primary" aria-label={`启用「${row.name}」`} onClick={() => patch(row, { is_active: true }, `已启用「${row.name}」。`)}>启用</Button>
                )}
              </span>
            ),
          },
        ]}
      />
      <Dialog
        visible={form !== null}
        header={editing ? `修改账号：${editing.username}` : '开通账号'}
        onClose={() => setForm(null)}
        onConfirm={submit}
        confirmBtn="保存"
        cancelBtn="取消"
        width={560}
      >
        {form && (
          <div className="dialog-form">
            {!editing && (
              <label className="field">
                <span>用户名</span>
                <Input value={form.username} onChange={(value) => setForm({ ...form, username: String(value) })} />
              </label>
            )}
            <label className="field">
              <span>姓名</span>
              <Input value={form.name} onChange={(value) => setForm({ ...form, name: String(value) })} />
            </label>
            {!editing && (
              <label className="field">
                <span>初始密码（至少 10 位，含字母和数字）</span>
                <Input type="password" value={form.password} onChange={(value) => setForm({ ...form, password: String(value) })} />
              </label>
            )}
            <fieldset className="checks">
              <legend>角色</legend>
              {ROLES.map((role) => (
                <Checkbox
                  key={role}
                  checked={form.roles.includes(role)}
                  onChange={(checked) => setForm({ ...form, roles: checked ? [...form.roles, role] : form.roles.filter((r) => r !== role) })}
                >
                  {ROLE_NAMES[role]}
                </Checkbox>
              ))}
            </fieldset>
            <label className="field">
              <span>部门</span>
              <Select
                value={form.departmentId ?? 0}
                onChange={(value) => setForm({ ...form, departmentId: Number(value) || null })}
                options={[{ label: '全市（不属于部门，仅监督员、管理员）', value: 0 }, ...(departments.data?.items ?? []).map((d) => ({ label: d.name, value: d.id }))]}
              />
            </label>
            {problem && <Alert theme="error" message={problem} />}
          </div>
        )}
      </Dialog>
      <Dialog
        visible={closing !== null}
        header={closing ? `停用「${closing.name}」的账号？` : ''}
        onClose={() => setClosing(null)}
        confirmBtn={{ content: '停用', theme: 'danger' }}
        cancelBtn="取消"
        onConfirm={async () => {
          if (closing && (await patch(closing, { is_active: false }, `已停用「${closing.name}」，其登录已失效。`))) setClosing(null);
        }}
      >
        <p>停用后此人立即退出工作台、不能再登录；其经办的办件记录保留。需要时可再启用。</p>
      </Dialog>
      <Dialog visible={password !== null} header="临时密码" onClose={() => setPassword(null)} cancelBtn={null} confirmBtn="我已记下" onConfirm={() => setPassword(null)}>
        {password && (
          <p>
            「{password.who}」的临时密码：<code className="secret">{password.value}</code>。此密码只显示这一次，请当面或电话告知本人。
          </p>
        )}
      </Dialog>
    </section>
  );
}
