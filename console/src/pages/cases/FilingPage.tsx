import './cases.css';
import type { FormEvent } from 'react';
import { Alert, Button, Card, Checkbox, Input, Select } from 'tdesign-react';
import { useNavigate } from 'react-router-dom';
import { useSession } from '../../session/SessionContext';
import { useWindowFiling } from '../../cases/filing';

const FORM_NAMES: Record<string, string> = { original: '原件', copy: '复印件', electronic: '电子件' };

/** Window filing: a walk-in citizen's case, accepted at once, then its printable receipt. */
export default function FilingPage() {
  const { staff } = useSession();
  const navigate = useNavigate();
  const filing = useWindowFiling(staff?.department_id);
  const { draft, guide, edit } = filing;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const filed = await filing.file();
    if (filed) navigate(`/filing/${filed.id}/receipt`);
  }

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
                <legend>已收材料（核对纸质或扫描件后勾选）</legend>
                {guide.materials.map((material) => (
                  <div key={material.id} className="check-row">
                    <Checkbox
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
                  </div>
                ))}
              </fieldset>
            </>
          )}
        </Card>
        <div role="alert">
          {filing.problems.length > 0 && <Alert theme="error" message={filing.problems.join(' ')} />}
          {filing.error && <Alert theme="error" message={filing.error} />}
        </div>
        <Button type="submit" theme="primary" size="large" loading={filing.busy}>提交并受理</Button>
      </form>
    </section>
  );
}
