import '../../supervision/supervision.css';
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Dialog, Radio, Table, Tag } from 'tdesign-react';
import { ApiError } from '@govhall/api-client';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import {
  CHANNEL,
  REFUND_STATUS,
  type Reconciliation,
  type Refund,
  differenceRows,
  fenOf,
  refundErrorText,
  yuan,
} from '../../supervision/admin';
import { cityDay } from '../../supervision/period';

type Notice = { theme: 'success' | 'error'; text: string } | null;

function failureText(failure: unknown): string {
  return failure instanceof ApiError ? refundErrorText(failure.code, apiErrorText(failure)) : apiErrorText(failure);
}

function yesterday(): string {
  const day = new Date(`${cityDay(new Date())}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

function Reconciliations() {
  const [day, setDay] = useState(yesterday);
  const [reports, setReports] = useState<Reconciliation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!day) return;
    setError(null);
    api.GET('/api/v1/admin/reconciliations', { query: { date: day } }).then(setReports, (failure) => setError(apiErrorText(failure)));
  }, [day]);
  const differences = reports ? differenceRows(reports) : [];
  return (
    <section className="figure-section" aria-labelledby="recon-title" data-testid="reconciliations">
      <h2 id="recon-title">对账报告</h2>
      <label className="inline-field">
        对账日期 <input type="date" value={day} onChange={(event) => setDay(event.target.value)} />
      </label>
      {error && <Alert theme="error" message={`加载失败：${error}`} />}
      {reports && !reports.length && <p>该日尚无对账报告（每日对账在次日生成，也可运行 python -m app reconcile --date {day}）。</p>}
      {reports && reports.length > 0 && (
        <Table
          rowKey="id"
          size="small"
          bordered
          data={reports}
          columns={[
            { colKey: 'channel', title: '渠道', cell: ({ row }) => CHANNEL[row.channel] ?? row.channel },
            { colKey: 'bill', title: '平台账单笔数', cell: ({ row }) => String(row.summary.bill_rows ?? '—') },
            { colKey: 'paid', title: '本系统收款笔数', cell: ({ row }) => String(row.summary.our_payments ?? '—') },
            { colKey: 'refunds', title: '本系统退款笔数', cell: ({ row }) => String(row.summary.our_refunds ?? '—') },
            {
              colKey: 'diff',
              title: '差异',
              cell: ({ row }) =>
                row.differences.length ? <Tag theme="danger">{row.differences.length} 笔不一致</Tag> : <Tag theme="success">一致</Tag>,
            },
          ]}
        />
      )}
      {differences.length > 0 && (
        <>
          <h3>不一致明细</h3>
          <Table
            rowKey="key"
            size="small"
            bordered
            data={differences}
            columns={[
              { colKey: 'channel', title: '渠道' },
              { colKey: 'kind', title: '差异' },
              { colKey: 'number', title: '订单号/退款单号' },
              { colKey: 'theirs', title: '平台金额' },
              { colKey: 'ours', title: '本系统金额' },
            ]}
          />
        </>
      )}
    </section>
  );
}

function RefundForm({ onDone }: { onDone: () => void }) {
  const [orderNo, setOrderNo] = useState('');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<Notice>(null);
  async function submit() {
    const fen = fenOf(amount);
    if (!orderNo.trim() || fen === null || !reason.trim()) {
      setNotice({ theme: 'error', text: '请填写订单号、退款金额（元，最多两位小数）和退款原因。' });
      return;
    }
    try {
      const refund = await api.POST('/api/v1/admin/payments/{order_no}/refunds', {
        path: { order_no: orderNo.trim() },
        body: { amount_fen: fen, reason: reason.trim() },
      });
      setNotice({ theme: 'success', text: `退款 ${refund.refund_no}（${yuan(refund.amount_fen)}）：${REFUND_STATUS[refund.status] ?? refund.status}` });
      onDone();
    } catch (failure) {
      setNotice({ theme: 'error', text: failureText(failure) });
    }
  }
  return (
    <form
      className="filters"
      aria-label="发起退款"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label>
        订单号 <input value={orderNo} onChange={(event) => setOrderNo(event.target.value)} />
      </label>
      <label>
        退款金额（元） <input inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} />
      </label>
      <label>
        原因 <input maxLength={80} value={reason} onChange={(event) => setReason(event.target.value)} />
      </label>
      <Button type="submit">退款</Button>
      {notice && <Alert theme={notice.theme} message={notice.text} />}
    </form>
  );
}

function AbnormalRetry({ refund, onClose }: { refund: Refund; onClose: (notice: Notice) => void }) {
  const [to, setTo] = useState<'merchant_bank_card' | 'user_bank_card'>('merchant_bank_card');
  const [card, setCard] = useState({ bank_type: '', bank_account: '', real_name: '' });
  const [error, setError] = useState<string | null>(null);
  async function send() {
    try {
      await api.POST('/api/v1/admin/payments/refunds/{refund_no}/abnormal-retry', {
        path: { refund_no: refund.refund_no },
        body: to === 'merchant_bank_card' ? { to } : { to, ...card },
      });
      onClose({ theme: 'success', text: `退款 ${refund.refund_no} 已重新发出，回到「处理中」。` });
    } catch (failure) {
      setError(failureText(failure));
    }
  }
  return (
    <Dialog visible header={`重发异常退款 ${refund.refund_no}`} confirmBtn="重发" cancelBtn="取消" onConfirm={send} onClose={() => onClose(null)}>
      <Radio.Group value={to} onChange={(value) => setTo(value as typeof to)}>
        <Radio value="merchant_bank_card">退到本单位银行账户（再由工作人员线下退给办事人）</Radio>
        <Radio value="user_bank_card">退到办事人的另一张借记卡</Radio>
      </Radio.Group>
      {to === 'user_bank_card' && (
        <div className="filters">
          <label>
            银行类型 <input placeholder="如 ICBC_DEBIT" value={card.bank_type} onChange={(event) => setCard({ ...card, bank_type: event.target.value })} />
          </label>
          <label>
            卡号 <input inputMode="numeric" value={card.bank_account} onChange={(event) => setCard({ ...card, bank_account: event.target.value })} />
          </label>
          <label>
            户名 <input value={card.real_name} onChange={(event) => setCard({ ...card, real_name: event.target.value })} />
          </label>
        </div>
      )}
      {error && <Alert theme="error" message={error} />}
    </Dialog>
  );
}

function Refunds() {
  const [status, setStatus] = useState<string>('abnormal');
  const [refunds, setRefunds] = useState<Refund[]>([]);
  const [total, setTotal] = useState(0);
  const [retrying, setRetrying] = useState<Refund | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const load = useCallback(() => {
    api
      .GET('/api/v1/admin/refunds', { query: { status: status === 'all' ? undefined : (status as Refund['status']), page_size: 50 } })
      .then(
        (found) => {
          setRefunds(found.items);
          setTotal(found.total);
        },
        (failure) => setNotice({ theme: 'error', text: `加载失败：${apiErrorText(failure)}` }),
      );
  }, [status]);
  useEffect(load, [load]);
  return (
    <section className="figure-section" aria-labelledby="refunds-title" data-testid="refunds">
      <h2 id="refunds-title">退款</h2>
      <RefundForm onDone={load} />
      <Radio.Group variant="default-filled" value={status} onChange={(value) => setStatus(String(value))}>
        {['abnormal', 'processing', 'failed', 'succeeded', 'all'].map((value) => (
          <Radio.Button key={value} value={value}>
            {value === 'all' ? '全部' : REFUND_STATUS[value]}
          </Radio.Button>
        ))}
      </Radio.Group>
      {notice && <Alert theme={notice.theme} message={notice.text} />}
      <p>共 {total} 笔（最新的在前）。</p>
      <Table
        rowKey="refund_no"
        size="small"
        bordered
        data={refunds}
        empty="没有这类退款"
        columns={[
          { colKey: 'refund_no', title: '退款单号' },
          { colKey: 'order_no', title: '订单号' },
          { colKey: 'channel', title: '渠道', cell: ({ row }) => CHANNEL[row.channel] ?? row.channel },
          { colKey: 'amount_fen', title: '金额', cell: ({ row }) => yuan(row.amount_fen) },
          { colKey: 'reason', title: '原因' },
          { colKey: 'status', title: '状态', cell: ({ row }) => <Tag theme={row.status === 'abnormal' ? 'danger' : 'default'}>{REFUND_STATUS[row.status] ?? row.status}</Tag> },
          {
            colKey: 'op',
            title: '操作',
            cell: ({ row }) => (row.status === 'abnormal' ? <Button size="small" onClick={() => setRetrying(row)}>重发</Button> : '—'),
          },
        ]}
      />
      {retrying && (
        <AbnormalRetry
          refund={retrying}
          onClose={(result) => {
            setRetrying(null);
            if (result) {
              setNotice(result);
              load();
            }
          }}
        />
      )}
    </section>
  );
}

/** Payment reconciliation (a day's reports and their mismatches) and refunds (new, and abnormal ones sent again). */
export default function PaymentsPage() {
  return (
    <section aria-labelledby="payments-title" className="admin-page">
      <h1 id="payments-title">对账与退款</h1>
      <Reconciliations />
      <Refunds />
    </section>
  );
}
