import './cases.css';
import type { FormEvent } from 'react';
import { Alert, Button, Card, Checkbox, Input, Select } from 'tdesign-react';
import { Link, useNavigate } from 'react-router-dom';
import { useSession } from '../../session/SessionContext';
import { useWindowFiling } from '../../cases/filing';
import { SCAN_ACCEPT, formatBytes, type ScanSlot } from '../../cases/uploads';

const FORM_NAMES: Record<string, string> = { original: '原件', copy: '复印件', electronic: '电子件' };

/** Window filing: a walk-in citizen's case, accepted at once, then its printable receipt. */
export default function FilingPage() {
  const { staff } = useSession();
  const navigate = useNavigate();
  const filing = useWindowFiling(staff?.department_id);
  const { draft, guide, edit } = filing;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await filing.file();
    // Every scan stored: the receipt. Otherwise the page stays, saying which failed, with a retry.
    if (result?.complete) navigate(`/filing/${result.filed.id}/receipt`);
  }

  async function retry() {
    if ((await filing.retryScans()) && filing.filed) navigate(`/filing/${filing.filed.id}/receipt`);
  }

  const locked = filing.filed !== null;

  return (
    <section className="filing">
      <h1>窗口收件</h1>
      <p className="lead">为到窗口办理的群众立案：核验身份证原件，核对纸质材料后勾选，提交即受理并出具受理回执。</p>
      <form onSubmit={submit} aria-label="窗口收件">
        <Card title="申请人" bordered>
          <div className="form-grid">
            <label className="field">
              <span>姓名（与身份证一致）</span>
              <Input value={draft.applicantName} onChange={(value) => edit({ applicantName: String(value) })} maxlength={32} />
            </label>
            <label className="field">
              <span>身份证号码</span>
              <Input value={draft.idNumber} onChange={(value) => edit({ idNumber: String(value) })} maxlength={18} autocomplete="off" />
            </label>
          </div>
        </Card>
        <Card title="办理事项" bordered>
          <label className="field">
            <span>事项</span>
            <Select
              value={draft.matterId ?? undefined}
              options={filing.matters.map((matter) => ({ label: matter.name, value: matter.id }))}
              onChange={(value) => edit({ matterId: value ? Number(value) : null })}
              placeholder="请选择本部门事项"
              filterable
              style={{ width: 420 }}
            />
          </label>
          {guide && (
            <>
              <p className="preview-note">承诺 {guide.promised_days} 个工作日内办结（指南第 {guide.version} 版）</p>
              {guide.form_fields.length > 0 && (
                <fieldset>
                  <legend>申请表</legend>
                  <div className="form-grid">
                    {guide.form_fields.map((field) => {
                      const name = String(field.name);
                      return (
                        <label className="field" key={name}>
                          <span>{String(field.label ?? name)}{field.required ? '（必填）' : ''}</span>
                          <Input
                            value={draft.form[name] ?? ''}
                            onChange={(value) => edit({ form: { ...draft.form, [name]: String(value) } })}
                          />
                        </label>
                      );
                    })}
                  </div>
                </fieldset>
              )}
              <fieldset>
                <legend>已收材料（核对纸质件后勾选；可为每项材料上传一份扫描件：PDF、JPG 或 PNG，不超过 10 MB）</legend>
                {guide.materials.map((material) => {
                  const slot = filing.scans[material.id];
                  return (
                    <div key={material.id} className="check-row scan-row" data-testid={`material-${material.id}`}>
                      <Checkbox
                        disabled={locked}
                        checked={draft.materialsChecked.includes(material.id)}
                        onChange={(checked) =>
                          edit({
                            materialsChecked: checked
                              ? [...draft.materialsChecked, material.id]
                              : draft.materialsChecked.filter((id) => id !== material.id),
                          })
                        }
                      >
                        {material.name}（{material.required ? '必需' : '选交'}，{FORM_NAMES[material.form] ?? material.form} {material.copies} 份）
                      </Checkbox>
                      <label className={`scan-pick${locked && slot?.status !== 'failed' ? ' disabled' : ''}`}>
                        <span className="scan-button" aria-hidden="true">
                          {slot ? '更换扫描件' : '选择扫描件'}
                        </span>
                        <input
                          className="scan-input"
                          type="file"
                          accept={SCAN_ACCEPT}
                          disabled={locked && slot?.status !== 'failed'}
                          aria-label={`${material.name} 的扫描件`}
                          onChange={(event) => filing.chooseScan(material.id, event.currentTarget.files?.[0] ?? null)}
                        />
                      </label>
                      {slot && <ScanState slot={slot} name={material.name} />}
                    </div>
                  );
                })}
              </fieldset>
            </>
          )}
        </Card>
        <div role="alert">
          {filing.problems.length > 0 && <Alert theme="error" message={filing.problems.join(' ')} />}
          {filing.error && <Alert theme="error" message={filing.error} />}
        </div>
        {filing.filed && !filing.busy && !filing.allStored && (
          <div className="scan-retry" role="status">
            <Alert
              theme="warning"
              message={`已受理（受理编号 ${filing.filed.receipt_no}），但有扫描件未上传成功。可重试上传，或先打印回执，稍后在办件中补传。`}
            />
            <div className="action-submit">
              <Button theme="primary" onClick={retry}>重试上传</Button>
              <Link to={`/filing/${filing.filed.id}/receipt`}>不再上传，查看回执</Link>
            </div>
          </div>
        )}
        {!filing.filed && (
          <Button type="submit" theme="primary" size="large" loading={filing.busy}>提交并受理</Button>
        )}
        {filing.filed && filing.busy && <p role="status">正在上传扫描件…</p>}
      </form>
    </section>
  );
}

const SLOT_TEXT: Record<ScanSlot['status'], string> = {
  chosen: '待上传',
  invalid: '不能上传',
  uploading: '上传中',
  done: '已上传',
  failed: '上传失败',
};

/** One material's scan: its name and size, the upload's progress, or why it failed. */
function ScanState({ slot, name }: { slot: ScanSlot; name: string }) {
  return (
    <div className={`scan-state scan-${slot.status}`} data-testid="scan-state">
      <span>
        {slot.file?.name}（{formatBytes(slot.file?.size ?? 0)}）：{SLOT_TEXT[slot.status]}
      </span>
      {slot.status === 'uploading' && (
        <progress max={100} value={slot.progress} aria-label={`${name} 上传进度`}>
          {slot.progress}%
        </progress>
      )}
      {slot.error && <span className="scan-error">{slot.error}</span>}
    </div>
  );
}
