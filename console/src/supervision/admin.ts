/** The administrators' pages' data shaping: audit changes, delivery and refund states, reconciliation differences. */
import type { components } from '@govhall/api-client';

export type AuditEntry = components['schemas']['AuditEntryOut'];
export type Delivery = components['schemas']['DeliveryOut'];
export type Refund = components['schemas']['RefundListItemOut'];
export type Reconciliation = components['schemas']['ReconciliationOut'];

export interface Change {
  field: string;
  before: string;
  after: string;
}

function shown(value: unknown): string {
  if (value === undefined) return '（无）';
  if (value === null) return '（空）';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The fields an audit entry changed, before and after, in field order; unchanged fields left out. */
export function changesOf(entry: Pick<AuditEntry, 'before' | 'after'>): Change[] {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => ({ field, before: shown(before[field]), after: shown(after[field]) }));
}

export const DELIVERY_STATUS: Record<string, string> = {
  pending: '待发送',
  sending: '发送中',
  sent: '已送达',
  rejected: '被平台拒收',
  dead: '失败终止',
  no_credit: '未订阅（未发送）',
};

export const CHANNEL: Record<string, string> = { wechat: '微信', alipay: '支付宝', wecom: '企业微信', sms: '短信' };

/** Why a push failed, in words an operator acts on (the platform's own error text kept after it). */
export function deliveryReason(delivery: Pick<Delivery, 'status' | 'last_error' | 'attempts'>): string {
  const error = delivery.last_error ? `：${delivery.last_error}` : '';
  switch (delivery.status) {
    case 'dead':
      return `重试 ${delivery.attempts} 次仍失败${error}。平台恢复后可点「重试」。`;
    case 'rejected':
      return `平台拒收（多为用户拒收或模板失效，重试无用）${error}`;
    case 'no_credit':
      return '办事人没有订阅该类消息，只写入了站内信。';
    default:
      return delivery.last_error || '—';
  }
}

export const REFUND_STATUS: Record<string, string> = {
  processing: '处理中',
  succeeded: '已退款',
  failed: '退款失败',
  abnormal: '退款异常（待重发）',
};

const DIFFERENCE_KIND: Record<string, string> = {
  paid_there_not_here: '平台已收款，本系统未记为已付',
  paid_here_not_there: '本系统记为已付，平台账单没有',
  amount: '付款金额不一致',
  refunded_there_not_here: '平台已退款，本系统未记为已退',
  refunded_here_not_there: '本系统记为已退，平台账单没有',
  refund_amount: '退款金额不一致',
};

/** Fen as yuan with two decimals (¥12.50); none as 「—」. */
export function yuan(fen: unknown): string {
  return typeof fen === 'number' ? `¥${(fen / 100).toFixed(2)}` : '—';
}

export interface DifferenceRow {
  key: string;
  channel: string;
  kind: string;
  number: string;
  theirs: string;
  ours: string;
}

/** Every mismatch of a day's reports as one table row each: what differs, which order or refund, both amounts. */
export function differenceRows(reports: Reconciliation[]): DifferenceRow[] {
  return reports.flatMap((report) =>
    report.differences.map((difference, index) => ({
      key: `${report.id}-${index}`,
      channel: CHANNEL[report.channel] ?? report.channel,
      kind: DIFFERENCE_KIND[String(difference.kind)] ?? String(difference.kind),
      number: String(difference.refund_no ?? difference.order_no ?? '—'),
      theirs: yuan(difference.their_fen),
      ours: yuan(difference.our_fen),
    })),
  );
}

/** Yuan typed by an admin (12.5, 12.50) as integer fen, or null when it is not an amount. */
export function fenOf(yuanText: string): number | null {
  const text = yuanText.trim();
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  const [whole, part = ''] = text.split('.');
  const fen = Number(whole) * 100 + Number(part.padEnd(2, '0'));
  return fen > 0 ? fen : null;
}

export const AUDIT_PAGE_SIZE = 20;

export interface AuditFilters {
  staff_id: string;
  object_type: string;
  object_id: string;
  from: string;
  to: string;
}

/** The audit query of the filled-in filters only (an empty box filters nothing; a staff number must be one). */
export function auditQuery(filters: AuditFilters, page: number) {
  const staffId = Number(filters.staff_id.trim());
  return {
    page,
    page_size: AUDIT_PAGE_SIZE,
    staff_id: filters.staff_id.trim() && Number.isInteger(staffId) && staffId > 0 ? staffId : undefined,
    object_type: filters.object_type.trim() || undefined,
    object_id: filters.object_id.trim() || undefined,
    from: filters.from || undefined,
    to: filters.to || undefined,
  };
}

/** What to tell an admin whose refund or retry was refused (codes of app/payments/errors.py), with the next step. */
export function refundErrorText(code: string, fallback: string): string {
  switch (code) {
    case 'PAYMENT_NOT_FOUND':
      return '找不到这个支付订单，请核对订单号（以 GH 开头，见办事人的缴费记录或对账明细）。';
    case 'REFUND_EXCEEDS_PAID':
      return '退款金额超过了该订单尚可退的金额，请减少金额。';
    case 'REFUND_NOT_FOUND':
      return '找不到这笔退款，请刷新列表。';
    case 'ILLEGAL_TRANSITION':
      return '这笔退款已不是「退款异常」状态，无需重发，请刷新列表。';
    case 'VALIDATION_FAILED':
      return '填写有误：金额须大于 0，原因不能为空；退到用户银行卡须填写银行类型（如 ICBC_DEBIT）、卡号和户名。';
    default:
      return fallback;
  }
}
