import { useCallback, useEffect, useState } from 'react';
import { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import Refusal from '../../components/Refusal';
import { usePolling } from '../../hooks/usePolling';
import { api } from '../../services/api';
import { clockOf, explainBookingError, loadHalls, myQueueTickets, takeQueueTicket, ticketStatusText } from '../../services/booking';
import type { Explanation, Hall, QueueTicket } from '../../services/booking';
import '../service.scss';

// Seconds between refreshes while the page is shown (the number moves when a window calls).
const REFRESH_MS = 5000;

export default function QueuePage() {
  const params = useRouter().params;
  const preferredHall = params.hall_id ? Number(params.hall_id) : null;
  const matterId = params.matter_id ? Number(params.matter_id) : undefined;
  const [halls, setHalls] = useState<Hall[]>([]);
  const [tickets, setTickets] = useState<QueueTicket[] | null>(null);
  const [refusal, setRefusal] = useState<Explanation | null>(null);
  const [taking, setTaking] = useState<number | null>(null);
  const [refreshedAt, setRefreshedAt] = useState<string>('');

  useEffect(() => {
    loadHalls(api)
      .then((all) => setHalls([...all].sort((a, b) => Number(b.id === preferredHall) - Number(a.id === preferredHall))))
      .catch((error) => setRefusal(explainBookingError(error)));
  }, [preferredHall]);

  const refresh = useCallback(async () => {
    const mine = await myQueueTickets(api);
    setTickets(mine);
    const now = new Date();
    setRefreshedAt(`${String(now.getHours()).padStart(2, '0')}:${String(now.getMinutes()).padStart(2, '0')}:${String(now.getSeconds()).padStart(2, '0')}`);
  }, []);
  usePolling(refresh, REFRESH_MS);

  async function take(hallId: number) {
    setTaking(hallId);
    setRefusal(null);
    try {
      await takeQueueTicket(api, hallId, hallId === preferredHall ? matterId : undefined);
      await refresh();
    } catch (error) {
      setRefusal(explainBookingError(error));
    } finally {
      setTaking(null);
    }
  }

  const hallName = (id: number) => halls.find((hall) => hall.id === id)?.name ?? `大厅 ${id}`;
  const active = (tickets ?? []).filter((ticket) => ticket.status === 'waiting' || ticket.status === 'called');
  const past = (tickets ?? []).filter((ticket) => ticket.status !== 'waiting' && ticket.status !== 'called');

  return (
    <PageShell className="svc">
      <View className="svc-head" {...FOCUSABLE}>
        <Text className="svc-head-title">排队取号</Text>
        <Text className="svc-head-sub">大厅开放时间内可在手机上取号，叫号时会通知您</Text>
      </View>
      {refusal && <Refusal explanation={refusal} />}

      {active.map((ticket) => (
        <View key={ticket.id} className="svc-card" aria-label={`排队号 ${ticket.number}`} data-testid="ticket">
          <View className="svc-row-line">
            <Text className="svc-card-title">我的排队号</Text>
            <Text className={`svc-status ${ticket.status === 'called' ? 'checked_in' : ''}`}>{ticket.status === 'called' ? '已叫号' : '等候中'}</Text>
          </View>
          <View className="svc-ticket">
            <Text className="svc-ticket-number">{ticket.number}</Text>
            <View role="status">
              <Text className="svc-ticket-status">{ticketStatusText(ticket)}</Text>
            </View>
            <Text className="svc-muted">
              {hallName(ticket.hall_id)} · {clockOf(ticket.issued_at)} 取号
            </Text>
          </View>
          <Text className="svc-muted">每 5 秒自动刷新{refreshedAt ? `，最近 ${refreshedAt}` : ''}。过号请到服务台咨询。</Text>
        </View>
      ))}

      <View className="svc-card" aria-label="选择大厅取号">
        <Text className="svc-card-title">选择大厅取号</Text>
        {halls.map((hall) => (
          <View key={hall.id} className="svc-row">
            <Text className="svc-row-name">{hall.name}</Text>
            <Text className="svc-muted">{hall.address}</Text>
            <View className="svc-row-line">
              <Text className="svc-muted">{hall.opening_hours}</Text>
            </View>
            <Button
              size="small"
              type="primary"
              fill={active.some((ticket) => ticket.hall_id === hall.id) ? 'outline' : 'solid'}
              loading={taking === hall.id}
              disabled={taking !== null}
              onClick={() => void take(hall.id)}
            >
              在{hall.name}取号
            </Button>
          </View>
        ))}
      </View>

      {past.length > 0 && (
        <View className="svc-card">
          <Text className="svc-card-title">今天办过的号</Text>
          {past.map((ticket) => (
            <View key={ticket.id} className="svc-row-line">
              <Text className="svc-text">
                {ticket.number} · {hallName(ticket.hall_id)}
              </Text>
              <Text className="svc-muted">{ticketStatusText(ticket)}</Text>
            </View>
          ))}
        </View>
      )}
    </PageShell>
  );
}
