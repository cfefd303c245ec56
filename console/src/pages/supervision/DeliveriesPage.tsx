import '../../supervision/supervision.css';
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Pagination, Radio, Table, Tag } from 'tdesign-react';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import { CHANNEL, DELIVERY_STATUS, type Delivery, deliveryReason } from '../../supervision/admin';

const PAGE_SIZE = 20;
type Status = 'dead' | 'rejected' | 'no_credit' | 'pending';
const TABS: Status[] = ['dead', 'rejected', 'no_credit', 'pending'];

/** Notification dead letters: failed pushes, why they failed, and a retry for those that ran out of attempts. */
export default function DeliveriesPage() {
  const [status, setStatus] = useState<Status>('dead');
  const [page, setPage] = useState(1);
  const [items, setItems] = useState<Delivery[]>([]);
  const [total, setTotal] = useState(0);
  const [message, setMessage] = useState<{ theme: 'success' | 'error'; text: string } | null>(null);

  const load = useCallback(() => {
    api.GET('/api/v1/staff/deliveries', { query: { status, page, page_size: PAGE_SIZE } }).then(
      (found) => {
        setItems(found.items);
        setTotal(found.total);
      },
      (failure) => setMessage({ theme: 'error', text: `加载失败：${apiErrorText(failure)}` }),
    );
  }, [status, page]);
  useEffect(load, [load]);

  async function retry(delivery: Delivery) {
    try {
      await api.POST('/api/v1/staff/deliveries/{delivery_id}/retry', { path: { delivery_id: delivery.id } });
      setMessage({ theme: 'success', text: `推送 ${delivery.id} 已重新排队发送。` });
      load();
    } catch (failure) {
      setMessage({ theme: 'error', text: `重试失败：${apiErrorText(failure)}（可能已被他人重试，请刷新）` });
    }
  }

  return (
    <section aria-labelledby="deliveries-title" className="admin-page">
      <h1 id="deliveries-title">消息投递（失败推送）</h1>
      <Radio.Group
        variant="default-filled"
        value={status}
        onChange={(value) => {
          setStatus(value as Status);
          setPage(1);
        }}
      >
        {TABS.map((tab) => (
          <Radio.Button key={tab} value={tab}>
            {DELIVERY_STATUS[tab]}
          </Radio.Button>
        ))}
      </Radio.Group>
      {message && <Alert theme={message.theme} message={message.text} />}
      <p>共 {total} 条。</p>
      <Table
        rowKey="id"
        size="small"
        bordered
        data={items}
        empty="没有这类推送"
        columns={[
          { colKey: 'id', title: '编号', width: 80 },
          { colKey: 'channel', title: '渠道', width: 90, cell: ({ row }) => CHANNEL[row.channel] ?? row.channel },
          { colKey: 'purpose', title: '内容', width: 160 },
          { colKey: 'status', title: '状态', width: 130, cell: ({ row }) => <Tag theme={row.status === 'dead' ? 'danger' : 'default'}>{DELIVERY_STATUS[row.status] ?? row.status}</Tag> },
          { colKey: 'reason', title: '原因', cell: ({ row }) => deliveryReason(row) },
          {
            colKey: 'op',
            title: '操作',
            width: 100,
            cell: ({ row }) => (row.status === 'dead' ? <Button size="small" onClick={() => retry(row)}>重试</Button> : '—'),
          },
        ]}
      />
      {total > PAGE_SIZE && <Pagination total={total} pageSize={PAGE_SIZE} current={page} onCurrentChange={setPage} showPageSize={false} />}
    </section>
  );
}
