import type { Schema } from '@govhall/api-client';

type StaffCase = Schema<'StaffCaseOut'>;
type MaterialFile = Schema<'MaterialFileOut'>;

export interface ReceivedMaterial {
  id: number;
  name: string;
  /** The clerk ticked its paper copy when filing (the file_at_window timeline entry's materials_checked). */
  checked: boolean;
  files: MaterialFile[];
}

/** What the window received for a case, per material of its guide: the paper checked and the scans stored. */
export function receivedMaterials(filed: Pick<StaffCase, 'materials' | 'timeline'>): ReceivedMaterial[] {
  const filing = filed.timeline.find((entry) => entry.action === 'file_at_window');
  const listed = (filing?.details?.materials_checked ?? []) as { material_id?: number }[];
  const checked = new Set(listed.map((item) => item.material_id));
  return filed.materials.map((material) => ({
    id: material.id,
    name: material.name,
    checked: checked.has(material.id),
    files: material.files,
  }));
}
