import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import Refusal from '../../components/Refusal';
import { api } from '../../services/api';
import { book, clockOf, explainBookingError, groupSlots, loadHalls, loadSlots, seatsText, slotLabel } from '../../services/booking';
import type { Explanation, Hall, Slot } from '../../services/booking';
import { loadGuide } from '../../services/catalog';
import type { Guide } from '../../services/catalog';
import '../service.scss';

function newKey(): string {
  return `bk-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export default function BookPage() {
  const matterId = Number(useRouter().params.matter_id);
  const [guide, setGuide] = useState<Guide | null>(null);
  const [halls, setHalls] = useState<Hall[]>([]);
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [hallId, setHallId] = useState<number | null>(null);
  const [date, setDate] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Slot | null>(null);
  const [refusal, setRefusal] = useState<Explanation | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per chosen slot: a double tap or a retried request books once.
  const key = useRef(newKey());

  const load = useCallback(async () => {
    try {
      const [found, all, open] = await Promise.all([loadGuide(api, matterId), loadHalls(api), loadSlots(api, matterId)]);
      setGuide(found);
      setHalls(all.filter((hall) => found.hall_ids.includes(hall.id)));
      setSlots(open);
    } catch (error) {
      setRefusal(explainBookingError(error));
    }
  }, [matterId]);

  useEffect(() => {
    void load();
  }, [load]);

  const groups = useMemo(() => groupSlots(slots ?? [], halls), [slots, halls]);
  const hall = groups.find((group) => group.hallId === hallId) ?? groups[0];
  const day = hall?.days.find((d) => d.date === date) ?? hall?.days[0];

  function choose(slot: Slot) {
    if (slot.remaining <= 0) return;
    setChosen(slot);
    setRefusal(null);
    key.current = newKey();
  }

  async function confirm() {
    if (!chosen || busy) return;
    setBusy(true);
    setRefusal(null);
    try {
      const appointment = await book(api, chosen, key.current);
      Taro.redirectTo({ url: `/pages-service/appointment/index?id=${appointment.id}&booked=1` });
    } catch (error) {
      const explained = explainBookingError(error);
      setRefusal(explained);
      if (explained.action === 'other_slot') {
        setChosen(null);
        // The seats changed under us: show the listing as it is now (the full slot greyed out).
        setSlots(await loadSlots(api, matterId).catch(() => slots));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <PageShell className="svc">
      <View className="svc-head" {...FOCUSABLE}>
        <Text className="svc-head-title">{guide ? guide.name : '预约办理'}</Text>
        <Text className="svc-head-sub">选择大厅、日期和时段，到时凭预约码签到</Text>
      </View>

      {refusal && (
        <Refusal explanation={refusal}>
          {refusal.action === 'my_appointments' && (
            <Button size="small" type="primary" onClick={() => Taro.navigateTo({ url: '/pages-service/appointments/index' })}>
              查看我的预约
            </Button>
          )}
          {refusal.action === 'retry' && (
            <Button size="small" type="primary" onClick={() => void load()}>
              重试
            </Button>
          )}
        </Refusal>
      )}

      {slots === null && !refusal && <View className="svc-empty">正在查询可预约时段…</View>}
      {slots !== null && groups.length === 0 && (
        <View className="svc-card">
          <Text className="svc-text">近期暂无可预约的时段（每天 08:00 放出新的号源）。</Text>
          <Text className="svc-muted">也可以在大厅开放时间到现场取号办理。</Text>
        </View>
      )}

      {hall && (
        <>
          <View className="svc-card" aria-label="选择大厅">
            <Text className="svc-card-title">办理大厅</Text>
            <View className="svc-chips">
              {groups.map((group) => (
                <View
                  key={group.hallId}
                  role="button"
                  {...FOCUSABLE}
                  aria-pressed={group.hallId === hall.hallId}
                  className={`svc-chip ${group.hallId === hall.hallId ? 'on' : ''}`}
                  onClick={() => {
                    setHallId(group.hallId);
                    setDate(null);
                    setChosen(null);
                  }}
                >
                  <Text>{group.hallName}</Text>
                </View>
              ))}
            </View>
            {halls.find((h) => h.id === hall.hallId) && (
              <Text className="svc-muted">{halls.find((h) => h.id === hall.hallId)?.address}</Text>
            )}
          </View>

          <View className="svc-card" aria-label="选择日期">
            <Text className="svc-card-title">办理日期（工作日）</Text>
            <View className="svc-chips">
              {hall.days.map((d) => (
                <View
                  key={d.date}
                  role="button"
                  {...FOCUSABLE}
                  aria-pressed={d.date === day?.date}
                  className={`svc-chip ${d.date === day?.date ? 'on' : d.remaining === 0 ? 'off' : ''}`}
                  onClick={() => {
                    setDate(d.date);
                    setChosen(null);
                  }}
                >
                  <Text>{d.label}</Text>
                  <Text className="svc-chip-sub">{d.remaining > 0 ? `余 ${d.remaining}` : '已约满'}</Text>
                </View>
              ))}
            </View>
          </View>

          {day && (
            <View className="svc-card" aria-label="选择时段">
              <Text className="svc-card-title">办理时段</Text>
              <View className="svc-slots">
                {day.slots.map((slot) => (
                  <View
                    key={slot.id}
                    role="button"
                  {...FOCUSABLE}
                    aria-disabled={slot.remaining <= 0}
                    aria-pressed={chosen?.id === slot.id}
                    data-testid="slot"
                    className={`svc-chip ${chosen?.id === slot.id ? 'on' : slot.remaining <= 0 ? 'off' : ''}`}
                    onClick={() => choose(slot)}
                  >
                    <Text>
                      {clockOf(slot.start)}-{clockOf(slot.end)}
                    </Text>
                    <Text className="svc-chip-sub">{seatsText(slot)}</Text>
                  </View>
                ))}
              </View>
            </View>
          )}

          <View className="svc-bar">
            <Button type="primary" disabled={!chosen || busy} loading={busy} onClick={() => void confirm()}>
              {chosen ? `确认预约 ${slotLabel(chosen)}` : '请选择时段'}
            </Button>
          </View>
          <View className="svc-notice">
            <Text className="svc-notice-title">预约须知</Text>
            <Text>请携带办事指南所列材料，在预约时段开始前 30 分钟内到大厅签到取号。</Text>
            <Text>不能前往请提前取消；90 天内 3 次预约未到，将暂停网上预约 30 天。</Text>
          </View>
        </>
      )}

    </PageShell>
  );
}
