import './cases.css';
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Input, Radio, Select, Tag, Textarea } from 'tdesign-react';
import { Link, useParams } from 'react-router-dom';
import { useCaseDesk } from '../../cases/hooks';
import {
  ACTION_NAMES,
  ACTOR_NAMES,
  LIGHT_NAMES,
  STEP_NAMES,
  STATUS_NAMES,
  actionSpec,
  draftProblems,
  formatDay,
  formatTime,
  type ActionDraft,
  type StaffCase,
} from '../../cases/service';
import FilePreview from './FilePreview';

const FORM_NAMES: Record<string, string> = { original: '原件', copy: '复印件', electronic: '电子件' };

/** The case desk: the material files on the left, the checklist, form, timeline and actions on the right. */
export default function CaseDeskPage() {
  const caseId = Number(useParams().caseId);
  const desk = useCaseDesk(caseId);
  const { current } = desk;
  const files = current?.materials.flatMap((m) => m.files.map((file) => ({ ...file, materialName: m.name }))) ?? [];
  const [shown, setShown] = useState<number | null>(null);
  useEffect(() => {
    if (files.length && (shown === null || !files.some((file) => file.id === shown))) setShown(files[0].id);
  }, [files, shown]);

  if (desk.loadError && !current) {
    return (
      <section>
        <h1>办件详情</h1>
        <div role="alert"><Alert theme="error" message={desk.loadError} /></div>
        <p><Link to="/cases">返回办件队列</Link></p>
      </section>
    );
  }
  if (!current) {
    return (
      <section>
        <h1>办件详情</h1>
        <p>正在载入…</p>
      </section>
    );
  }
  const file = files.find((item) => item.id === shown);

  return (
    <section className="case-desk">
      <header className="desk-head">
        <h1>办件详情</h1>
        <span className="desk-title">
          {current.receipt_no ?? `第 ${current.id} 号（未受理）`} · {current.matter_name} · {current.applicant_name}
        </span>
        <Tag theme="primary" variant="light" data-testid="case-status">{STATUS_NAMES[current.status] ?? current.status}</Tag>
        {current.light && <Tag variant="light" theme={current.light === 'red' ? 'danger' : current.light === 'yellow' ? 'warning' : 'success'}>{LIGHT_NAMES[current.light]}</Tag>}
        <Link to="/cases" className="desk-back">返回队列</Link>
      </header>
      <div className="desk-split">
        <Card className="desk-files" title="材料文件" bordered>
          {files.length === 0 ? (
            <p>申请人尚未上传材料文件。</p>
          ) : (
            <>
              <div className="file-tabs" role="tablist" aria-label="材料文件">
                {files.map((item) => (
                  <button
                    type="button"
                    role="tab"
                    key={item.id}
                    aria-selected={item.id === shown}
                    className={item.id === shown ? 'file-tab chosen' : 'file-tab'}
                    onClick={() => setShown(item.id)}
                  >
                    {item.materialName}：{item.file_name || `文件 ${item.id}`}
                  </button>
                ))}
              </div>
              <div role="tabpanel" aria-label={file ? `${file.materialName} 预览` : '预览'}>
                {file && <FilePreview key={file.id} caseId={current.id} file={file} />}
              </div>
            </>
          )}
        </Card>
        <div className="desk-side">
          <ActionsCard desk={desk} current={current} />
          <Card title={`材料清单（指南第 ${current.guide_version} 版）`} bordered>
            <table className="plain-table">
              <thead>
                <tr><th scope="col">材料</th><th scope="col">必需</th><th scope="col">形式/份数</th><th scope="col">已收</th></tr>
              </thead>
              <tbody>
                {current.materials.map((m) => (
                  <tr key={m.id}>
                    <td>{m.name}{m.e_licence && <Tag size="small" variant="outline" className="e-licence">可用电子证照</Tag>}</td>
                    <td>{m.required ? '必需' : '选交'}</td>
                    <td>{FORM_NAMES[m.form] ?? m.form} {m.copies} 份</td>
                    <td>
                      {m.files.length > 0 ? `${m.files.length} 个文件` : ''}
                      {m.licences.length > 0 ? `电子证照 ${m.licences.map((l) => l.licence_no_masked).join('、')}` : ''}
                      {m.files.length === 0 && m.licences.length === 0 ? <span className="missing">未提交</span> : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title="办理时限" bordered>
            <dl className="profile">
              <dt>提交</dt><dd>{formatTime(current.submitted_at)}</dd>
              <dt>受理</dt><dd>{formatTime(current.accepted_at)}</dd>
              <dt>办结时限</dt><dd>{formatDay(current.deadline)}{current.clock_paused ? '（中止中，计时暂停）' : ''}</dd>
              <dt>承诺时限</dt><dd>{current.promised_days} 个工作日</dd>
            </dl>
          </Card>
          <Card title="申请表" bordered>
            <dl className="profile" data-testid="case-form">
              <dt>申请人</dt><dd>{current.applicant_name}（{current.id_number_masked}）</dd>
              {current.form_fields.map((field) => {
                const name = String(field.name);
                const value = current.form[name];
                return (
                  <FormRow key={name} label={String(field.label ?? name)} value={value} />
                );
              })}
            </dl>
          </Card>
          <Card title="办理进度" bordered>
            <ol className="timeline" data-testid="timeline">
              {current.timeline.map((entry, index) => (
                <li key={index}>
                  <time>{formatTime(entry.at)}</time> {ACTOR_NAMES[entry.actor] ?? entry.actor}：
                  {STEP_NAMES[entry.action] ?? entry.action} → {STATUS_NAMES[entry.to] ?? entry.to}
                  {entry.note && <span className="note">{entry.note}</span>}
                </li>
              ))}
            </ol>
            {current.supplement_items.length > 0 && (
              <>
                <h2 className="sub">需补正</h2>
                <ul>
                  {current.supplement_items.map((item, index) => (
                    <li key={index}>{String(item.material_name || '其他')}：{String(item.reason)}</li>
                  ))}
                </ul>
              </>
            )}
          </Card>
        </div>
      </div>
    </section>
  );
}

function FormRow({ label, value }: { label: string; value: unknown }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value === undefined || value === null || value === '' ? '—' : String(value)}</dd>
    </>
  );
}

function ActionsCard({ desk, current }: { desk: ReturnType<typeof useCaseDesk>; current: StaffCase }) {
  const { action, draft } = desk;
  const [problems, setProblems] = useState<string[]>([]);
  const allowed = current.allowed_actions;
  function trySend() {
    if (!action) return;
    const found = draftProblems(action, draft);
    setProblems(found);
    if (found.length === 0) void desk.send();
  }
  return (
    <Card title="办理" bordered className="desk-actions">
      <div role="status" aria-live="polite">
        {desk.done && <Alert theme="success" message={`已${ACTION_NAMES[desk.done] ?? desk.done}。`} />}
      </div>
      {desk.conflict && (
        <div role="alert" data-testid="conflict">
        <Alert
          theme="warning"
          title="办件已被他人处理，未提交您的操作"
          message={
            <>
              <ul className="conflict-list">{desk.conflict.map((line, index) => <li key={index}>{line}</li>)}</ul>
              <p>已载入最新办件，您填写的内容已保留；请核对后决定是否再次提交。</p>
            </>
          }
        />
        </div>
      )}
      {allowed.length === 0 ? (
        <p>此办件当前没有您可以进行的办理操作。</p>
      ) : (
        <div className="action-buttons">
          {allowed.map((name) => (
            <Button
              key={name}
              theme={actionSpec(name).danger ? 'danger' : 'primary'}
              variant={action === name ? 'base' : 'outline'}
              onClick={() => { setProblems([]); desk.open(name); }}
            >
              {ACTION_NAMES[name] ?? name}
            </Button>
          ))}
        </div>
      )}
      {action && (
        <form
          className="action-form"
          aria-label={ACTION_NAMES[action] ?? action}
          onSubmit={(event) => { event.preventDefault(); trySend(); }}
        >
          <h2 className="sub">{ACTION_NAMES[action] ?? action}</h2>
          {!allowed.includes(action) && (
            <Alert theme="info" message="办件状态已变，此操作现在不可用；您填写的内容仍保留在下方。" />
          )}
          <ActionFields action={action} draft={draft} edit={desk.edit} current={current} />
          <div role="alert">
            {problems.length > 0 && <Alert theme="error" message={problems.join(' ')} />}
            {desk.sendError && <Alert theme="error" message={desk.sendError} />}
          </div>
          <div className="action-submit">
            <Button type="submit" theme={actionSpec(action).danger ? 'danger' : 'primary'} loading={desk.sending}>
              确认{ACTION_NAMES[action] ?? action}
            </Button>
            <Button variant="outline" onClick={desk.close}>收起</Button>
          </div>
        </form>
      )}
    </Card>
  );
}

function ActionFields({
  action,
  draft,
  edit,
  current,
}: {
  action: string;
  draft: ActionDraft;
  edit: (change: Partial<ActionDraft>) => void;
  current: StaffCase;
}) {
  const spec = actionSpec(action);
  const materialOptions = [{ label: '其他（不针对某项材料）', value: 0 }].concat(
    current.materials.map((m) => ({ label: m.name, value: m.id })),
  );
  return (
    <>
      {spec.fields.includes('items') && (
        <fieldset className="supplement-items">
          <legend>一次性告知：需要补正的全部内容</legend>
          {draft.items.map((item, index) => (
            <div className="supplement-item" key={index}>
              <label className="field">
                <span>第 {index + 1} 项材料</span>
                <Select
                  value={item.materialId ?? 0}
                  options={materialOptions}
                  onChange={(value) => {
                    const items = [...draft.items];
                    items[index] = { ...item, materialId: Number(value) || null };
                    edit({ items });
                  }}
                  style={{ width: '100%' }}
                />
              </label>
              <label className="field grow">
                <span>第 {index + 1} 项原因</span>
                <Input
                  value={item.reason}
                  onChange={(value) => {
                    const items = [...draft.items];
                    items[index] = { ...item, reason: String(value) };
                    edit({ items });
                  }}
                  placeholder="如：复印件不清晰，请重新扫描"
                />
              </label>
              <Button variant="text" theme="danger" aria-label={`删除第 ${index + 1} 项`} onClick={() => edit({ items: draft.items.filter((_, i) => i !== index) })}>
                删除
              </Button>
            </div>
          ))}
          <Button variant="dashed" onClick={() => edit({ items: [...draft.items, { materialId: null, reason: '' }] })}>
            添加一项
          </Button>
        </fieldset>
      )}
      {spec.fields.includes('method') && (
        <div className="field">
          <span id="deliver-method">送达方式</span>
          <Radio.Group
            aria-labelledby="deliver-method"
            value={draft.method}
            onChange={(value) => edit({ method: value as ActionDraft['method'] })}
          >
            <Radio value="pickup">窗口领取</Radio>
            <Radio value="express">邮寄</Radio>
          </Radio.Group>
        </div>
      )}
      {spec.fields.includes('tracking_no') && draft.method === 'express' && (
        <label className="field">
          <span>快递单号</span>
          <Input value={draft.trackingNo} onChange={(value) => edit({ trackingNo: String(value) })} maxlength={40} />
        </label>
      )}
      <label className="field">
        <span>{spec.noteLabel}</span>
        <Textarea value={draft.note} onChange={(value) => edit({ note: String(value) })} maxlength={500} autosize={{ minRows: 2, maxRows: 6 }} />
      </label>
    </>
  );
}
