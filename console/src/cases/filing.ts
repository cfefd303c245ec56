import { useEffect, useState } from 'react';
import type { Schema } from '@govhall/api-client';
import { api } from '../api';
import { caseErrorText, filingBody, filingProblems, type FilingDraft, type StaffCase } from './service';

type Matter = Schema<'MatterOut'>;
type MatterSummary = Schema<'MatterSummaryOut'>;

export const EMPTY_FILING: FilingDraft = { matterId: null, applicantName: '', idNumber: '', form: {}, materialsChecked: [] };

/** Window filing: my department's matters, the chosen one's guide, the draft and the filing call. */
export function useWindowFiling(departmentId: number | null | undefined) {
  const [matters, setMatters] = useState<MatterSummary[]>([]);
  const [guide, setGuide] = useState<Matter | null>(null);
  const [draft, setDraft] = useState<FilingDraft>(EMPTY_FILING);
  const [problems, setProblems] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!departmentId) return;
    api
      .GET('/api/v1/matters', { query: { department_id: departmentId, page_size: 100 } as never })
      .then((page) => setMatters(page.items))
      .catch((failure) => setError(caseErrorText(failure)));
  }, [departmentId]);

  useEffect(() => {
    if (draft.matterId === null) return setGuide(null);
    let live = true;
    api
      .GET('/api/v1/matters/{matter_id}', { path: { matter_id: draft.matterId } })
      .then((matter) => live && setGuide(matter))
      .catch((failure) => live && setError(caseErrorText(failure)));
    return () => {
      live = false;
    };
  }, [draft.matterId]);

  function edit(change: Partial<FilingDraft>) {
    // What was missing is said again on the next submit; stale complaints about fields now filled only confuse.
    setProblems([]);
    setDraft((current) => ({
      ...current,
      ...change,
      // Another matter has other materials and fields.
      ...(change.matterId !== undefined && change.matterId !== current.matterId ? { form: {}, materialsChecked: [] } : {}),
    }));
  }

  async function file(): Promise<StaffCase | null> {
    const found = filingProblems(draft);
    setProblems(found);
    if (found.length) return null;
    setBusy(true);
    setError(null);
    try {
      return (await api.POST('/api/v1/staff/cases', { body: filingBody(draft) as never })) as StaffCase;
    } catch (failure) {
      setError(caseErrorText(failure));
      return null;
    } finally {
      setBusy(false);
    }
  }

  return { matters, guide, draft, edit, problems, error, busy, file };
}
