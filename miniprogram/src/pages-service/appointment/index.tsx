import { useCallback, useEffect, useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import QrCode from '../../components/QrCode';
import Refusal from '../../components/Refusal';
import { api } from '../../services/api';
import {
  appointmentById,
  appointmentStatusLabel,
  cancelAppointment,
  clockOf,
  dayLabel,
  explainBookingError,
  loadHalls,
  slotLabel,
} from '../../services/booking';
import type { Appointment, Explanation, Hall } from '../../services/booking';
import { matterNames } from '../../services/catalog';
import '../service.scss';

export default function AppointmentPage() {
  const params = useRouter().params;
  const id = Number(params.id);
  const [item, setItem] = useState<Appointment | null>(null);
  const [matterName, setMatterName] = useState('');
  const [hall, setHall] = useState<Hall | null>(null);
  const [refusal, setRefusal] = useState<Explanation | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [cancelled, setCancelled] = useState(false);

  const load = useCallback(async () => {
    setRefusal(null);
    try {
      const [found, halls] = await Promise.all([appointmentById(api, id), loadHalls(api)]);
      setMatterName((await matterNames(api, [found.matter_id])).get(found.matter_id) ?? '');
      setHall(halls.find((h) => h.id === found.hall_id) ?? null);
      setItem(found);
    } catch (error) {
      setRefusal(explainBookingError(error));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  async function cancel() {
    setBusy(true);
    setRefusal(null);
    try {
      setItem(await cancelAppointment(api, id));
      setCancelled(true);
    } catch (error) {
      setRefusal(explainBookingError(error));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  const canCancel = item?.allowed_actions.includes('cancel') ?? false;

  return (
    <PageShell className="svc">
      <View className="svc-head" {...FOCUSABLE}>
        <Text className="svc-head-title">{matterName || '预约详情'}</Text>
        {item && <Text className="svc-head-sub">{slotLabel(item.slot)}</Text>}
      </View>
      {params.booked === '1' && item?.status === 'booked' && (
        <View className="svc-notice" role="status">
          <Text className="svc-notice-title">预约成功</Text>
          <Text>请按时到大厅，出示下方预约码签到取号。</Text>
        </View>
      )}
      {cancelled && (
        <View className="svc-notice" role="status">
          <Text className="svc-notice-title">预约已取消</Text>
          <Text>名额已释放，如需办理可重新预约。</Text>
        </View>
      )}
      {refusal && (
        <Refusal explanation={refusal}>
          {refusal.action === 'retry' && (
            <Button size="small" type="primary" onClick={() => void load()}>
              刷新
            </Button>
          )}
          {refusal.action === 'my_appointments' && (
            <Button size="small" type="primary" onClick={() => Taro.redirectTo({ url: '/pages-service/appointments/index' })}>
              我的预约
            </Button>
          )}
        </Refusal>
      )}
      {!item && !refusal && <View className="svc-empty">正在加载…</View>}
      {item && (
        <>
          <View className="svc-card">
            <View className="svc-row-line">
              <Text className="svc-card-title">预约码</Text>
              <Text className={`svc-status ${item.status}`}>{appointmentStatusLabel(item.status)}</Text>
            </View>
            {item.status === 'booked' || item.status === 'checked_in' ? (
              <View className="svc-qr">
                <QrCode text={item.code} size={200} label={`签到二维码，预约码 ${item.code}`} />
                <Text className="svc-code" data-testid="code">
                  {item.code}
                </Text>
                <Text className="svc-muted">到厅后在取号机扫码或向窗口出示预约码签到</Text>
              </View>
            ) : (
              <Text className="svc-text">该预约{appointmentStatusLabel(item.status)}，预约码已失效。</Text>
            )}
            {item.ticket_number && <Text className="svc-text">排队号：{item.ticket_number}</Text>}
          </View>
          <View className="svc-card">
            <Text className="svc-card-title">预约信息</Text>
            <View className="svc-row">
              <Text className="svc-muted">办理时间</Text>
              <Text className="svc-text">{slotLabel(item.slot)}</Text>
            </View>
            {hall && (
              <View className="svc-row">
                <Text className="svc-muted">办理大厅</Text>
                <Text className="svc-text">{hall.name}</Text>
                <Text className="svc-muted">{hall.address}</Text>
              </View>
            )}
            {item.status === 'booked' && (
              <View className="svc-row">
                <Text className="svc-muted">取消截止</Text>
                <Text className="svc-text">
                  {dayLabel(item.cancel_closes_at)} {clockOf(item.cancel_closes_at)} 前可取消
                </Text>
              </View>
            )}
          </View>
          {item.status === 'no_show' && (
            <View className="svc-notice" role="note">
              <Text className="svc-notice-title">本次预约未到场</Text>
              <Text>90 天内累计 3 次预约未到场，将暂停网上预约 30 天。</Text>
            </View>
          )}
          {canCancel && (
            <View className="svc-bar">
              {confirming ? (
                <>
                  <Button onClick={() => setConfirming(false)}>不取消</Button>
                  <Button type="danger" loading={busy} disabled={busy} onClick={() => void cancel()}>
                    确认取消预约
                  </Button>
                </>
              ) : (
                <Button type="danger" fill="outline" onClick={() => setConfirming(true)}>
                  取消预约
                </Button>
              )}
            </View>
          )}
        </>
      )}
    </PageShell>
  );
}
