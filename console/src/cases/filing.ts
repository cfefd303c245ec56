import { useEffect, useState } from 'react';
import type { Schema } from '@govhall/api-client';
import { api } from '../api';
import { caseErrorText, filingBody, filingProblems, type FilingDraft, type StaffCase } from './service';
import { allStored, chosenSlot, pendingSlots, uploadScan, type ScanSlot } from './uploads';

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
  // One scanned file per material slot, sent once the case is filed; the filed case (so a retry never files twice).
  const [scans, setScans] = useState<Record<number, ScanSlot>>({});
  const [filed, setFiled] = useState<StaffCase | null>(null);

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

  function updateSlot(materialId: number, change: Partial<ScanSlot>) {
    setScans((current) => (current[materialId] ? { ...current, [materialId]: { ...current[materialId], ...change } } : current));
  }

  /** The clerk chose (or cleared) the scan of one material: checked at once; a good scan ticks the material. */
  function chooseScan(materialId: number, file: File | null) {
    setProblems([]);
    setScans((current) => {
      const next = { ...current };
      if (file) next[materialId] = chosenSlot(materialId, file);
      else delete next[materialId];
      return next;
    });
    if (file && !draft.materialsChecked.includes(materialId) && chosenSlot(materialId, file).status === 'chosen') {
      setDraft((current) => ({ ...current, materialsChecked: [...current.materialsChecked, materialId] }));
    }
  }

  /** Send the scans still to send (chosen, or failed before), one at a time; true when every scan is stored. */
  async function sendScans(caseId: number, slots: Record<number, ScanSlot>): Promise<boolean> {
    let complete = true;
    for (const slot of pendingSlots(slots)) {
      if (!slot.file) continue;
      updateSlot(slot.materialId, { status: 'uploading', progress: 0, error: null });
      try {
        const stored = await uploadScan(api, caseId, slot.materialId, slot.file, (progress) =>
          updateSlot(slot.materialId, { progress }),
        );
        updateSlot(slot.materialId, { status: 'done', progress: 100, stored });
      } catch (failure) {
        complete = false;
        updateSlot(slot.materialId, { status: 'failed', error: caseErrorText(failure) });
      }
    }
    return complete && Object.values(slots).every((slot) => slot.status !== 'invalid');
  }

  /** Send the failed scans of the filed case again; true when all are stored now. */
  async function retryScans(): Promise<boolean> {
    if (!filed) return false;
    setBusy(true);
    try {
      return await sendScans(filed.id, scans);
    } finally {
      setBusy(false);
    }
  }

  function edit(change: Partial<FilingDraft>) {
    // What was missing is said again on the next submit; stale complaints about fields now filled only confuse.
    setProblems([]);
    setDraft((current) => ({
      ...current,
      ...change,
      // Another matter has other materials and fields.
      ...(change.matterId !== undefined && change.matterId !== current.matterId ? { form: {}, materialsChecked: [] } : {}),
    }));
    if (change.matterId !== undefined && change.matterId !== draft.matterId) setScans({});
  }

  /** File and accept the case (once), then send the chosen scans: the case and whether every scan is stored. */
  async function file(): Promise<{ filed: StaffCase; complete: boolean } | null> {
    const found = filed ? [] : filingProblems(draft);
    if (Object.values(scans).some((slot) => slot.status === 'invalid')) found.push('有不合格的扫描件，请更换或移除。');
    setProblems(found);
    if (found.length) return null;
    setBusy(true);
    setError(null);
    try {
      let accepted = filed;
      if (!accepted) {
        accepted = (await api.POST('/api/v1/staff/cases', { body: filingBody(draft) as never })) as StaffCase;
        setFiled(accepted);
      }
      return { filed: accepted, complete: await sendScans(accepted.id, scans) };
    } catch (failure) {
      setError(caseErrorText(failure));
      return null;
    } finally {
      setBusy(false);
    }
  }

  return { matters, guide, draft, edit, problems, error, busy, file, scans, chooseScan, filed, retryScans, allStored: allStored(scans) };
}
