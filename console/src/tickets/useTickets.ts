import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '@govhall/api-client';
import type { Ticket, TicketAction, TicketFilter, TicketService } from './tickets';
import { ticketErrorText } from './tickets';

/** The ticket list with its filter, the opened ticket, and its actions (the typed note survives a failure). */
export function useTickets(service: TicketService) {
  const [filter, setFilter] = useState<TicketFilter>({ page: 1 });
  const [items, setItems] = useState<Ticket[]>([]);
  const [total, setTotal] = useState(0);
  const [opened, setOpened] = useState<Ticket | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const page = await service.list(filter);
      setItems(page.items);
      setTotal(page.total);
    } catch (failure) {
      setError(ticketErrorText(failure));
    }
  }, [service, filter]);

  useEffect(() => {
    void load();
  }, [load]);

  const open = async (id: number) => {
    setError(null);
    setDone(null);
    try {
      setOpened(await service.get(id));
    } catch (failure) {
      setError(ticketErrorText(failure));
    }
  };

  /** Runs the action; true when it went through (the form may then be cleared). */
  const act = (action: TicketAction, note: string): Promise<boolean> =>
    run((ticket) => service.act(ticket, action, note.trim()), '已提交。');

  /** Gives the opened ticket to this staff member of its department; true when it went through. */
  const assign = (staffId: number, name: string): Promise<boolean> =>
    run((ticket) => service.assign(ticket, staffId), `已指派给 ${name}。`);

  const run = async (send: (ticket: Ticket) => Promise<Ticket>, doneText: string): Promise<boolean> => {
    if (!opened) return false;
    setBusy(true);
    setError(null);
    try {
      const updated = await send(opened);
      setOpened(await service.get(updated.id));
      setDone(doneText);
      void load();
      return true;
    } catch (failure) {
      setError(ticketErrorText(failure));
      // Someone else moved it: show the ticket as it is now; the caller keeps what was typed.
      if (failure instanceof ApiError && (failure.code === 'STALE_VERSION' || failure.code === 'ILLEGAL_TRANSITION')) {
        setOpened(await service.get(opened.id).catch(() => opened));
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  return { filter, setFilter, items, total, opened, setOpened, open, act, assign, error, done, busy };
}
