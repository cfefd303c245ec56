import { useCallback, useEffect, useState } from 'react';
import type { Department, Hall, HallAppointment, QueueAction, QueueService, QueueTicket } from './queue';
import { queueErrorText, servingAt } from './queue';

const PLACE_KEY = 'govhall.console.window';

interface Place {
  hallId: number | null;
  window: number | null;
}

function rememberedPlace(): Place {
  try {
    const saved = JSON.parse(window.localStorage.getItem(PLACE_KEY) ?? '{}') as Partial<Place>;
    return { hallId: saved.hallId ?? null, window: saved.window ?? null };
  } catch {
    return { hallId: null, window: null };
  }
}

export interface Notice {
  tone: 'success' | 'error' | 'info';
  text: string;
}

/** The window desk: which hall and window I sit at (remembered), the day's appointments, and my current number. */
export function useWindowDesk(service: QueueService) {
  const [halls, setHalls] = useState<Hall[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [place, setPlace] = useState<Place>(rememberedPlace);
  const [appointments, setAppointments] = useState<HallAppointment[]>([]);
  const [current, setCurrent] = useState<QueueTicket | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    service.halls().then(setHalls, (error) => setNotice({ tone: 'error', text: queueErrorText(error) }));
    // Only to name whom a window serves: without them the window still shows its number and name.
    service.departments().then(setDepartments, () => undefined);
  }, [service]);

  const choose = useCallback((next: Partial<Place>) => {
    setPlace((was) => {
      const merged = { ...was, ...next };
      if (next.hallId !== undefined && next.hallId !== was.hallId) merged.window = null;
      window.localStorage.setItem(PLACE_KEY, JSON.stringify(merged));
      return merged;
    });
    setCurrent(null);
  }, []);

  const reload = useCallback(async () => {
    if (!place.hallId) return;
    try {
      setAppointments(await service.appointments(place.hallId));
    } catch (error) {
      setNotice({ tone: 'error', text: queueErrorText(error) });
    }
  }, [service, place.hallId]);

  useEffect(() => {
    setAppointments([]);
    void reload();
  }, [reload]);

  // After a reload, the number still called at my window is mine again.
  useEffect(() => {
    const { hallId, window: mine } = place;
    if (!hallId || !mine) return;
    service.queue(hallId).then(
      (queue) => setCurrent((was) => was ?? servingAt(queue, mine)),
      () => undefined,
    );
  }, [service, place]);

  async function run<T>(work: () => Promise<T>, success: (value: T) => string): Promise<T | null> {
    setBusy(true);
    try {
      const value = await work();
      setNotice({ tone: 'success', text: success(value) });
      return value;
    } catch (error) {
      setNotice({ tone: 'error', text: queueErrorText(error) });
      return null;
    } finally {
      setBusy(false);
      void reload();
    }
  }

  const checkIn = (code: string) =>
    run(
      () => service.checkIn(code),
      (answer) => `签到成功：排队号 ${answer.ticket.number}，前面还有 ${answer.ticket.ahead} 人。请告知群众留意大厅屏幕叫号。`,
    );

  const callNext = async () => {
    if (!place.hallId || !place.window) return;
    const hallId = place.hallId;
    const windowNumber = place.window;
    const called = await run(
      () => service.callNext(hallId, windowNumber),
      (ticket) => `已叫 ${ticket.number} 号到 ${ticket.window} 号窗口。`,
    );
    if (called) setCurrent(called);
  };

  const act = async (action: QueueAction) => {
    if (!current) return;
    const ticket = current;
    const done = await run(
      () => service.act(ticket.id, action, action === 'recall' ? (place.window ?? undefined) : undefined),
      (answer) =>
        action === 'recall'
          ? `已重新叫 ${answer.number} 号到 ${answer.window} 号窗口。`
          : action === 'skip'
            ? `${answer.number} 号已过号。群众稍后到来可点“重新叫号”。`
            : `${answer.number} 号已办结。`,
    );
    if (done) setCurrent(done);
  };

  const hall = halls.find((item) => item.id === place.hallId);
  const departmentName = (id: number) => {
    const found = departments.find((item) => item.id === id);
    return found ? found.short_name || found.name : `部门 ${id}`;
  };
  return { halls, hall, departmentName, place, choose, appointments, current, notice, busy, checkIn, callNext, act, reload };
}
