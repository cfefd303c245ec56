import { useCallback, useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import Refusal from '../../components/Refusal';
import { api } from '../../services/api';
import {
  appointmentStatusLabel,
  explainBookingError,
  loadHalls,
  myAppointments,
  myBookingStanding,
  slotLabel,
  standingNotice,
} from '../../services/booking';
import type { Appointment, BookingStanding, Explanation } from '../../services/booking';
import { matterNames } from '../../services/catalog';
import '../service.scss';

export default function AppointmentsPage() {
  const [items, setItems] = useState<Appointment[] | null>(null);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [hallNames, setHallNames] = useState<Map<number, string>>(new Map());
  const [refusal, setRefusal] = useState<Explanation | null>(null);
  const [standing, setStanding] = useState<BookingStanding | null>(null);

  const load = useCallback(async () => {
    setRefusal(null);
    try {
      const [list, halls, mine] = await Promise.all([myAppointments(api), loadHalls(api), myBookingStanding(api)]);
      setStanding(mine);
      setNames(await matterNames(api, list.map((a) => a.matter_id)));
      setHallNames(new Map(halls.map((hall) => [hall.id, hall.name])));
      setItems(list);
    } catch (error) {
      setRefusal(explainBookingError(error));
    }
  }, []);

  // Shown again after a cancel on the detail page: the list follows.
  useDidShow(() => void load());

  const notice = standing ? standingNotice(standing) : null;

  return (
    <PageShell className="svc">
      <View className="svc-head" {...FOCUSABLE}>
        <Text className="svc-head-title">我的预约</Text>
        <Text className="svc-head-sub">到厅后出示预约码签到，按时段先后叫号</Text>
      </View>
      {refusal && (
        <Refusal explanation={refusal}>
          {refusal.action === 'retry' && (
            <Button size="small" type="primary" onClick={() => void load()}>
              重试
            </Button>
          )}
        </Refusal>
      )}
      {notice && (
        <View className="svc-notice" role="note" data-testid="standing">
          <Text className="svc-notice-title">{notice.title}</Text>
          <Text>{notice.text}</Text>
        </View>
      )}
      {items === null && !refusal && <View className="svc-empty">正在加载…</View>}
      {items !== null && items.length === 0 && (
        <View className="svc-card">
          <Text className="svc-text">您还没有预约。在办事指南中点“预约办理”即可预约到厅时间。</Text>
        </View>
      )}
      {items?.map((item) => (
        <View
          key={item.id}
          className="svc-item"
          role="link"
          {...FOCUSABLE}
          data-testid="appointment"
          onClick={() => Taro.navigateTo({ url: `/pages-service/appointment/index?id=${item.id}` })}
        >
          <View className="svc-row-line">
            <Text className="svc-row-name">{names.get(item.matter_id) ?? '预约事项'}</Text>
            <Text className={`svc-status ${item.status}`}>{appointmentStatusLabel(item.status)}</Text>
          </View>
          <Text className="svc-text">{slotLabel(item.slot)}</Text>
          <Text className="svc-muted">{hallNames.get(item.hall_id) ?? ''}</Text>
        </View>
      ))}
    </PageShell>
  );
}
