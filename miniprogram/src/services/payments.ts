import { ApiError } from '@govhall/api-client';
import type { ApiClient } from '@govhall/api-client';
import type { PayChannel, PaymentOrder, PlatformAdapter } from '../platform/types';

export const CHANNEL_TEXT: Record<PayChannel, string> = { wechat: '微信支付', alipay: '支付宝' };

export const PAYMENT_STATUS_TEXT: Record<PaymentOrder['status'], string> = {
  pending: '待支付',
  paid: '已支付',
  closed: '已关闭',
  refunding: '退款中',
  refunded: '已退款',
};

/** How a payment attempt ended, as the page tells it. */
export type PaymentResult =
  | { kind: 'paid'; order: PaymentOrder }
  | { kind: 'pending'; order: PaymentOrder }
  | { kind: 'cancelled'; order: PaymentOrder }
  | { kind: 'failed'; reason: string; order?: PaymentOrder };

export interface PollOptions {
  attempts?: number;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Asks GET /payments/{order_no} until the server says paid (or closed/refunded), at most `attempts` times: the
 * provider's notification may arrive a moment after the cashier closes, and the server asks the provider itself
 * while the order is pending.
 */
export async function pollPayment(client: ApiClient, orderNo: string, options: PollOptions = {}): Promise<PaymentOrder> {
  const { attempts = 10, intervalMs = 1500, sleep = realSleep } = options;
  let order = await client.GET('/api/v1/payments/{order_no}', { path: { order_no: orderNo } });
  for (let tried = 1; order.status === 'pending' && tried < attempts; tried += 1) {
    await sleep(intervalMs);
    order = await client.GET('/api/v1/payments/{order_no}', { path: { order_no: orderNo } });
  }
  return order;
}

/** The words for a refusal of POST /cases/{id}/payments, with what to do next. */
export function paymentRefusal(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  switch (error.code) {
    case 'NOTHING_TO_PAY':
      return '该办件当前没有待缴费用（可能已缴清），请刷新查看';
    case 'CASE_NOT_SUBMITTED':
      return '请先提交申请，提交后才需要缴费';
    case 'CHANNEL_UNAVAILABLE':
      return '您还没有用该渠道登录过，请换一种支付方式，或在对应的小程序中缴费';
    default:
      return null;
  }
}

/**
 * One payment: open (or take back) the case's order on the channel, hand it to the platform's cashier, then ask the
 * server until it knows (`afterCashier` runs as the cashier closes: the subscribe request). A cashier saying paid is not trusted alone; "ask the server" (Alipay 8000/6004) is polled.
 */
export async function payCase(
  client: ApiClient,
  platform: PlatformAdapter,
  caseId: number,
  channel: PayChannel,
  poll: PollOptions = {},
  afterCashier?: () => Promise<unknown>,
): Promise<PaymentResult> {
  let order: PaymentOrder;
  try {
    order = await client.POST('/api/v1/cases/{case_id}/payments', { path: { case_id: caseId }, body: { channel } });
  } catch (error) {
    const reason = paymentRefusal(error);
    if (reason) return { kind: 'failed', reason };
    throw error;
  }
  if (order.status === 'paid') return { kind: 'paid', order };
  const outcome = await platform.pay(order, client);
  if (outcome.kind === 'cancelled') return { kind: 'cancelled', order };
  if (outcome.kind === 'failed') return { kind: 'failed', reason: outcome.reason, order };
  // Right after the cashier closes is where WeChat lets the app ask for subscribe messages (no other tap needed).
  if (afterCashier) await afterCashier().catch(() => undefined);
  const settled = await pollPayment(client, order.order_no, poll);
  if (settled.status === 'paid') return { kind: 'paid', order: settled };
  if (settled.status === 'pending') return { kind: 'pending', order: settled };
  return { kind: 'failed', reason: `订单${PAYMENT_STATUS_TEXT[settled.status]}，请重新发起缴费`, order: settled };
}
