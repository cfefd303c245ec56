import { useState } from 'react';
import { Alert, Button, Checkbox, Input, InputNumber, MessagePlugin, Select, Table, Tag, Textarea } from 'tdesign-react';
import { api } from '../../api';
import {
  FIELD_TYPES,
  PAY_BEFORE,
  PREFILL_NAMES,
  PREFILL_TYPES,
  diffGuide,
  fenOf,
  formFieldsOf,
  guideBody,
  guideProblems,
  moveField,
  newFieldName,
  newMaterial,
  optionsOf,
  yuan,
  type FieldType,
  type FormField,
  type Guide,
} from '../../admin/guide';
import { apiErrorText } from '../../session/errors';
import { useSession } from '../../session/SessionContext';
import { useLoad } from './useLoad';

/** 事项指南: a dept_admin's own department's guides (an admin's: all), edited and published as a new version. */
export default function MattersPage() {
  const { staff } = useSession();
  const ownDepartment = staff && !staff.roles.includes('admin') ? staff.department_id : null;
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const matters = useLoad(
    () =>
      api.GET('/api/v1/matters', {
        query: { page, page_size: 20, ...(ownDepartment ? { department_id: ownDepartment } : {}), ...(search.trim() ? { q: search.trim() } : {}) },
      }),
    [ownDepartment, page, search],
  );
  const [editing, setEditing] = useState<number | null>(null);

  if (editing !== null) return <GuideEditor matterId={editing} onClose={() => { setEditing(null); matters.reload(); }} />;
  return (
    <section>
      <h1>事项指南</h1>
      <p className="page-lead">
        此处的指南就是群众在“掌上政务”看到的指南。修改后发布为新版本，已受理的办件仍按其受理时的版本办理。
      </p>
      <label className="field-inline search">
        <span>查找事项</span>
        <Input value={search} clearable placeholder="事项名称或关键词" onChange={(value) => { setSearch(String(value)); setPage(1); }} style={{ width: 280 }} />
      </label>
      {matters.error && <Alert theme="error" message={matters.error} />}
      <Table
        rowKey="id"
        loading={!matters.data && !matters.error}
        data={matters.data?.items ?? []}
        empty={search ? '没有符合条件的事项' : '本部门还没有事项'}
        pagination={{ current: page, pageSize: 20, total: matters.data?.total ?? 0, showPageSize: false, onCurrentChange: setPage }}
        columns={[
          { colKey: 'code', title: '事项编码', width: 160 },
          { colKey: 'name', title: '事项名称' },
          { colKey: 'version', title: '当前版本', width: 100, cell: ({ row }) => `第 ${row.version} 版` },
          { colKey: 'bookable', title: '可预约', width: 90, cell: ({ row }) => (row.bookable ? '是' : '否') },
          {
            colKey: 'edit',
            title: '操作',
            width: 120,
            cell: ({ row }) => (
              <Button variant="text" theme="primary" onClick={() => setEditing(row.id)} aria-label={`编辑指南「${row.name}」`}>
                编辑指南
              </Button>
            ),
          },
        ]}
      />
    </section>
  );
}

function GuideEditor({ matterId, onClose }: { matterId: number; onClose(): void }) {
  const loaded = useLoad(
    async () => {
      const [guide, versions, halls] = await Promise.all([
        api.GET('/api/v1/matters/{matter_id}', { path: { matter_id: matterId } }),
        api.GET('/api/v1/matters/{matter_id}/versions', { path: { matter_id: matterId } }),
        api.GET('/api/v1/halls', { query: { page_size: 100 } }),
      ]);
      return { guide, versions: versions.items, halls: halls.items };
    },
    [matterId],
  );
  const [draft, setDraft] = useState<Guide | null>(null);
  const [materialName, setMaterialName] = useState('');
  const [feeName, setFeeName] = useState('');
  const [feeYuan, setFeeYuan] = useState('');
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (loaded.error) return <Alert theme="error" message={loaded.error} />;
  if (!loaded.data) return <p>正在加载指南…</p>;
  const published = loaded.data.guide;
  const guide = draft ?? published;
  const change = (patch: Partial<Guide>) => setDraft({ ...guide, ...patch });
  const changes = diffGuide(published, guide);

  function addMaterial() {
    if (!materialName.trim()) return setProblem('请先填写新材料的名称。');
    change({ materials: [...guide.materials, newMaterial(materialName, true, 1)] });
    setMaterialName('');
    setProblem(null);
  }

  function addFee() {
    const fen = fenOf(feeYuan);
    if (!feeName.trim() || fen === null) return setProblem('收费项目要有名称，金额按元填写，最多两位小数（如 12.50）。');
    change({ fees: [...guide.fees, { name: feeName.trim(), amount_fen: fen }] });
    setFeeName('');
    setFeeYuan('');
    setProblem(null);
  }

  async function publish() {
    // Not a disabled button: a greyed-out button says nothing of why (and fails contrast).
    if (changes.length === 0) return setProblem('尚未修改任何内容，无需发布新版本。');
    const problems = guideProblems(guide);
    if (problems.length) return setProblem(problems.join(''));
    setBusy(true);
    setProblem(null);
    try {
      const saved = await api.PUT('/api/v1/admin/matters/{matter_id}', {
        path: { matter_id: matterId },
        body: guideBody(guide, note) as never,
      });
      MessagePlugin.success(`已发布第 ${saved.version} 版。已受理的办件仍按原版本办理。`);
      setDraft(null);
      setNote('');
      loaded.reload();
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setProblem(code === 'STALE_VERSION' ? '有人在您编辑期间发布了新版本。请返回列表重新打开此指南后再修改。' : apiErrorText(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="guide-editor">
      <div className="page-title">
        <h1>编辑指南：{published.name}</h1>
        <Button variant="outline" onClick={onClose}>返回事项列表</Button>
      </div>
      <p className="page-lead">
        {published.department_name} · 编码 {published.code} · 当前发布第 {published.version} 版
      </p>
      <div className="form-grid">
        <label className="field">
          <span>事项名称</span>
          <Input value={guide.name} onChange={(value) => change({ name: String(value) })} />
        </label>
        <label className="field">
          <span>法定时限（工作日）</span>
          <InputNumber min={0} max={365} value={guide.legal_days} onChange={(value) => change({ legal_days: Number(value) })} />
        </label>
        <label className="field">
          <span>承诺时限（工作日）</span>
          <InputNumber min={0} max={365} value={guide.promised_days} onChange={(value) => change({ promised_days: Number(value) })} />
        </label>
        <label className="field">
          <span>最多跑动次数</span>
          <InputNumber min={0} max={10} value={guide.max_visits} onChange={(value) => change({ max_visits: Number(value) })} />
        </label>
      </div>
      <label className="field">
        <span>受理条件</span>
        <Textarea value={guide.conditions} autosize={{ minRows: 2, maxRows: 6 }} onChange={(value) => change({ conditions: String(value) })} />
      </label>

      <h2>申请材料</h2>
      <Table
        rowKey="name"
        data={guide.materials}
        empty="无需材料"
        columns={[
          { colKey: 'name', title: '材料名称' },
          {
            colKey: 'required',
            title: '必交',
            width: 90,
            cell: ({ row, rowIndex }) => (
              <Checkbox
                checked={row.required}
                aria-label={`「${row.name}」必交`}
                onChange={(checked) => change({ materials: guide.materials.map((m, i) => (i === rowIndex ? { ...m, required: Boolean(checked) } : m)) })}
              />
            ),
          },
          { colKey: 'copies', title: '份数', width: 80 },
          {
            colKey: 'remove',
            title: '操作',
            width: 100,
            cell: ({ row, rowIndex }) => (
              <Button variant="text" theme="danger" aria-label={`删除材料「${row.name}」`} onClick={() => change({ materials: guide.materials.filter((_, i) => i !== rowIndex) })}>
                删除
              </Button>
            ),
          },
        ]}
      />
      <div className="inline-form">
        <label className="field">
          <span>新增材料名称</span>
          <Input value={materialName} onChange={(value) => setMaterialName(String(value))} placeholder="如：近期一寸免冠照片" />
        </label>
        <Button onClick={addMaterial}>添加材料</Button>
      </div>

      <h2>收费</h2>
      <ul className="plain-list">
        {guide.fees.length === 0 && <li>免费</li>}
        {guide.fees.map((fee, index) => (
          <li key={`${fee.name}-${index}`}>
            {fee.name}：{yuan(fee.amount_fen)}{' '}
            <Button variant="text" theme="danger" aria-label={`删除收费「${fee.name}」`} onClick={() => change({ fees: guide.fees.filter((_, i) => i !== index) })}>
              删除
            </Button>
          </li>
        ))}
      </ul>
      <div className="inline-form">
        <label className="field">
          <span>收费项目</span>
          <Input value={feeName} onChange={(value) => setFeeName(String(value))} />
        </label>
        <label className="field">
          <span>金额（元）</span>
          <Input value={feeYuan} onChange={(value) => setFeeYuan(String(value))} placeholder="如 20.00" />
        </label>
        <Button onClick={addFee}>添加收费</Button>
      </div>
      <label className="field-inline">
        <span>缴费时点</span>
        <Select
          style={{ width: 180 }}
          value={guide.pay_before ?? ''}
          onChange={(value) => change({ pay_before: (String(value) || null) as Guide['pay_before'] })}
          options={[{ label: '不收费', value: '' }, ...Object.entries(PAY_BEFORE).map(([value, label]) => ({ label, value }))]}
        />
      </label>

      <h2>办理大厅</h2>
      <div className="checks">
        {loaded.data.halls.map((hall) => (
          <Checkbox
            key={hall.id}
            checked={guide.hall_ids.includes(hall.id)}
            onChange={(checked) => change({ hall_ids: checked ? [...guide.hall_ids, hall.id] : guide.hall_ids.filter((id) => id !== hall.id) })}
          >
            {hall.name}
          </Checkbox>
        ))}
      </div>

      <FormFieldsEditor fields={formFieldsOf(guide)} onChange={(fields) => change({ form_fields: fields as unknown as Guide['form_fields'] })} />

      <h2>与已发布版本的差异</h2>
      {changes.length === 0 ? (
        <p className="muted">尚未修改。</p>
      ) : (
        <table className="diff" aria-label="与已发布版本的差异">
          <thead>
            <tr><th scope="col">项目</th><th scope="col">已发布</th><th scope="col">修改后</th></tr>
          </thead>
          <tbody>
            {changes.map((item, index) => (
              <tr key={index}>
                <td>{item.field}</td>
                <td>{item.before ? <del>{item.before}</del> : '—'}</td>
                <td>{item.after ? <ins>{item.after}</ins> : '（删除）'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <label className="field">
        <span>修改说明（群众可见的版本记录）</span>
        <Input value={note} maxlength={200} onChange={(value) => setNote(String(value))} />
      </label>
      <div role="alert" aria-live="polite">{problem && <Alert theme="error" message={problem} />}</div>
      <div className="actions">
        <Button theme="primary" loading={busy} onClick={publish}>
          发布新版本
        </Button>
        {draft && <Button variant="outline" onClick={() => setDraft(null)}>放弃修改</Button>}
      </div>

      <h2>版本记录</h2>
      <ul className="plain-list">
        {loaded.data.versions.map((version) => (
          <li key={version.version}>
            <Tag variant="light">第 {version.version} 版</Tag> {version.created_at?.slice(0, 10) ?? ''} {version.created_by}{' '}
            {version.change_note}
          </li>
        ))}
      </ul>
    </section>
  );
}

const TYPE_OPTIONS = Object.entries(FIELD_TYPES).map(([value, label]) => ({ label, value }));

/** 申请表字段: what the citizen fills in when applying; part of the guide version, published with it. */
function FormFieldsEditor({ fields, onChange }: { fields: FormField[]; onChange(fields: FormField[]): void }) {
  const [label, setLabel] = useState('');
  const [type, setType] = useState<FieldType>('text');
  const [required, setRequired] = useState(true);
  const [options, setOptions] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const update = (index: number, patch: Partial<FormField>) => onChange(fields.map((field, i) => (i === index ? { ...field, ...patch } : field)));

  function add() {
    const text = label.trim();
    if (!text) return setProblem('请先填写新字段的名称（如：失业原因）。');
    if (fields.some((field) => field.label.trim() === text)) return setProblem(`已有名为「${text}」的字段。`);
    const choices = optionsOf(options);
    if (type === 'select' && choices.length === 0) return setProblem('单选字段要填写选项，用逗号或换行分开。');
    const field: FormField = { name: newFieldName(fields), label: text, type, required };
    if (type === 'select') field.options = choices;
    onChange([...fields, field]);
    setLabel('');
    setOptions('');
    setProblem(null);
  }

  return (
    <>
      <h2>申请表字段</h2>
      <p className="muted">群众在线申请时填写的内容，随指南一起发布为新版本；已提交的办件仍按原版本的字段。</p>
      <Table
        rowKey="name"
        data={fields}
        empty="无需填写申请表"
        columns={[
          { colKey: 'order', title: '顺序', width: 70, cell: ({ rowIndex }) => rowIndex + 1 },
          {
            colKey: 'label',
            title: '字段名称',
            cell: ({ row, rowIndex }) => (
              <label>
                {/* TDesign puts an aria-label on its wrapper, not the input: a label around it names the input */}
                <span className="sr-only">{`第 ${rowIndex + 1} 个字段的名称`}</span>
                <Input value={row.label} maxlength={32} onChange={(value) => update(rowIndex, { label: String(value) })} />
              </label>
            ),
          },
          {
            colKey: 'type',
            title: '类型',
            width: 150,
            cell: ({ row, rowIndex }) => (
              <label>
              <span className="sr-only">{`「${row.label}」的类型`}</span>
              <Select
                value={row.type}
                options={TYPE_OPTIONS}
                onChange={(value) => {
                  const next = String(value) as FieldType;
                  update(rowIndex, {
                    type: next,
                    options: next === 'select' ? row.options ?? [] : undefined,
                    prefill: row.prefill && PREFILL_TYPES[row.prefill] === next ? row.prefill : undefined,
                  });
                }}
              />
              </label>
            ),
          },
          {
            colKey: 'required',
            title: '必填',
            width: 70,
            cell: ({ row, rowIndex }) => (
              <Checkbox checked={Boolean(row.required)} aria-label={`「${row.label}」必填`} onChange={(checked) => update(rowIndex, { required: Boolean(checked) })} />
            ),
          },
          {
            colKey: 'options',
            title: '选项 / 说明',
            cell: ({ row, rowIndex }) =>
              row.type === 'select' ? (
                <label>
                  <span className="sr-only">{`「${row.label}」的选项（逗号分开）`}</span>
                  {/* read when the field is left: tidied on every key, a typed comma would vanish */}
                  <Input defaultValue={(row.options ?? []).join('，')} onBlur={(value) => update(rowIndex, { options: optionsOf(String(value)) })} />
                </label>
              ) : row.prefill ? (
                `自动填入${PREFILL_NAMES[row.prefill]}`
              ) : (
                '—'
              ),
          },
          {
            colKey: 'actions',
            title: '操作',
            width: 200,
            cell: ({ row, rowIndex }) => (
              <span className="row-actions">
                <Button variant="text" aria-label={`上移「${row.label}」`} onClick={() => onChange(moveField(fields, rowIndex, -1))}>
                  上移
                </Button>
                <Button variant="text" aria-label={`下移「${row.label}」`} onClick={() => onChange(moveField(fields, rowIndex, 1))}>
                  下移
                </Button>
                <Button variant="text" theme="danger" aria-label={`删除字段「${row.label}」`} onClick={() => onChange(fields.filter((_, i) => i !== rowIndex))}>
                  删除
                </Button>
              </span>
            ),
          },
        ]}
      />
      <div className="inline-form">
        <label className="field">
          <span>新字段名称</span>
          <Input value={label} maxlength={32} onChange={(value) => setLabel(String(value))} placeholder="如：失业原因" />
        </label>
        <label className="field">
          <span>字段类型</span>
          <Select value={type} options={TYPE_OPTIONS} onChange={(value) => setType(String(value) as FieldType)} style={{ width: 150 }} />
        </label>
        {type === 'select' && (
          <label className="field">
            <span>选项（逗号或换行分开）</span>
            <Input value={options} onChange={(value) => setOptions(String(value))} placeholder="如：本人，代办" />
          </label>
        )}
        <Checkbox checked={required} onChange={(checked) => setRequired(Boolean(checked))}>
          必填
        </Checkbox>
        <Button onClick={add}>添加字段</Button>
      </div>
      <div role="alert" aria-live="polite">{problem && <Alert theme="error" message={problem} />}</div>
    </>
  );
}
