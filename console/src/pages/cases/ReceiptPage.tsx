import './cases.css';
import { useEffect, useState } from 'react';
import { Alert, Button } from 'tdesign-react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../../api';
import { caseErrorText, formatDay, formatTime, type StaffCase } from '../../cases/service';
import { receivedMaterials } from '../../cases/receipt';
import { formatBytes } from '../../cases/uploads';

/** The printable acceptance receipt of a window-filed case (print CSS leaves only the receipt on paper). */
export default function ReceiptPage() {
  const caseId = Number(useParams().caseId);
  const [filed, setFiled] = useState<StaffCase | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .GET('/api/v1/staff/cases/{case_id}', { path: { case_id: caseId } })
      .then((answer) => setFiled(answer as StaffCase))
      .catch((failure) => setError(caseErrorText(failure)));
  }, [caseId]);
  if (error) return <section><h1>受理回执</h1><div role="alert"><Alert theme="error" message={error} /></div></section>;
  if (!filed) return <section><h1>受理回执</h1><p>正在载入…</p></section>;
  return (
    <section className="receipt-page">
      <div className="no-print receipt-tools">
        <Alert theme="success" message="已受理。请打印回执交给申请人。" />
        <Button theme="primary" onClick={() => window.print()}>打印回执</Button>
        <Link to="/filing">继续收件</Link>
        <Link to={`/cases/${filed.id}`}>打开办件</Link>
      </div>
      <article className="receipt" aria-label="受理回执">
        <h1>临江市政务服务 受理回执</h1>
        <dl>
          <dt>受理编号</dt><dd data-testid="receipt-no" className="receipt-no">{filed.receipt_no}</dd>
          <dt>办理事项</dt><dd>{filed.matter_name}</dd>
          <dt>受理部门</dt><dd>{filed.department_name}</dd>
          <dt>申请人</dt><dd>{filed.applicant_name}（身份证 {filed.id_number_masked}）</dd>
          <dt>受理时间</dt><dd>{formatTime(filed.accepted_at)}</dd>
          <dt>承诺办结</dt><dd data-testid="promised">{formatDay(filed.deadline)} 前（{filed.promised_days} 个工作日）</dd>
        </dl>
        <section className="receipt-received">
          <h2>收取材料</h2>
          <table className="receipt-materials" data-testid="receipt-materials">
            <thead>
              <tr><th scope="col">材料</th><th scope="col">纸质件</th><th scope="col">扫描件</th></tr>
            </thead>
            <tbody>
              {receivedMaterials(filed).map((row) => (
                <tr key={row.id}>
                  <td>{row.name}</td>
                  <td>{row.checked ? '已核验' : '未收'}</td>
                  <td>
                    {row.files.length === 0
                      ? '—'
                      : row.files.map((file) => (
                          <div key={file.id}>
                            {file.file_name}（{file.content_type === 'application/pdf' ? 'PDF' : '图片'}，{formatBytes(file.size_bytes)}）
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="receipt-follow">
          <h2>如何查询办理进度</h2>
          <ol>
            <li>微信或支付宝搜索「临江市掌上政务服务」小程序，完成实名认证；</li>
            <li>进入「我的办件」→「关联窗口办件」，输入受理编号 <strong>{filed.receipt_no}</strong> 和您的身份证号码；</li>
            <li>关联后可随时查看进度，办结、补正等消息会推送给您。</li>
          </ol>
        </section>
        <p className="receipt-foot">请妥善保管本回执。经办窗口签章：</p>
      </article>
    </section>
  );
}
