import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import {
  EMPTY_DRAFT,
  EMPTY_FILTERS,
  caseErrorText,
  draftsAfter,
  loadQueue,
  missingMaterialItems,
  sendTransition,
  type ActionDraft,
  type QueueFilters,
  type StaffCase,
} from './service';

type QueuePage = Awaited<ReturnType<typeof loadQueue>>;

/** The case queue: filters, the page they answer, and its error. */
export function useCaseQueue(initial: QueueFilters = EMPTY_FILTERS) {
  const [filters, setFilters] = useState(initial);
  const [page, setPage] = useState<QueuePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    let live = true;
    setLoading(true);
    loadQueue(api, filters)
      .then((answer) => {
        if (!live) return;
        setPage(answer);
        setError(null);
      })
      .catch((failure) => live && setError(caseErrorText(failure)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters]);
  return { filters, setFilters, page, error, loading };
}

/** One case at the desk: the case, the action being filled in, its draft (kept through a lost race), the outcome. */
export function useCaseDesk(caseId: number) {
  const [current, setCurrent] = useState<StaffCase | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [action, setAction] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<Record<string, ActionDraft>>({});
  const [conflict, setConflict] = useState<string[] | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const reload = useCallback(async () => {
    try {
      setCurrent((await api.GET('/api/v1/staff/cases/{case_id}', { path: { case_id: caseId } })) as StaffCase);
      setLoadError(null);
    } catch (failure) {
      setLoadError(caseErrorText(failure));
    }
  }, [caseId]);
  useEffect(() => {
    void reload();
  }, [reload]);

  function open(next: string) {
    setAction(next);
    setSendError(null);
    setDone(null);
    setDrafts((all) => {
      if (all[next] || !current) return all;
      const items = next === 'request_supplement' ? missingMaterialItems(current.materials) : [];
      return { ...all, [next]: { ...EMPTY_DRAFT, items } };
    });
  }

  function edit(change: Partial<ActionDraft>) {
    if (!action) return;
    setDrafts((all) => ({ ...all, [action]: { ...(all[action] ?? EMPTY_DRAFT), ...change } }));
  }

  async function send() {
    if (!current || !action) return;
    setSending(true);
    setSendError(null);
    try {
      const outcome = await sendTransition(api, current, action, drafts[action] ?? EMPTY_DRAFT);
      setDrafts((all) => draftsAfter(all, action, outcome));
      if (outcome.kind === 'done') {
        setCurrent(outcome.case);
        setConflict(null);
        setDone(action);
        setAction(null);
      } else if (outcome.kind === 'stale') {
        // The draft stays: the clerk reads what changed and decides whether to send it again.
        setCurrent(outcome.case);
        setConflict(outcome.changes);
      } else {
        setSendError(outcome.message);
      }
    } finally {
      setSending(false);
    }
  }

  return {
    current,
    loadError,
    action,
    draft: action ? (drafts[action] ?? EMPTY_DRAFT) : EMPTY_DRAFT,
    open,
    close: () => setAction(null),
    edit,
    send,
    sending,
    conflict,
    sendError,
    done,
  };
}
