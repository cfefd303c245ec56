import type { ApiClient, Schema } from '@govhall/api-client';
import { NetworkError, toApiError } from '@govhall/api-client';

export type MaterialFile = Schema<'MaterialFileOut'>;

/** The server's storage.max_upload_bytes (config.toml): a bigger file is refused with 413 anyway. */
export const MAX_SCAN_BYTES = 10 * 1024 * 1024;
export const SCAN_TYPES: Record<string, string> = { pdf: 'application/pdf', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png' };
/** What the file picker offers: the same three types the server takes (it checks the bytes, not the name). */
export const SCAN_ACCEPT = '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png';

export interface PickedScan {
  name: string;
  type: string;
  size: number;
}

function typeOfName(name: string): string {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  return SCAN_TYPES[extension] ?? '';
}

/** Why this file cannot be sent (type, size, empty), said before any byte leaves the window; null when it can. */
export function checkScan(file: PickedScan, maxBytes = MAX_SCAN_BYTES): string | null {
  const type = file.type || typeOfName(file.name);
  if (!Object.values(SCAN_TYPES).includes(type)) return `「${file.name}」不是 PDF、JPG 或 PNG 文件，请重新扫描或换一个文件`;
  if (file.size > maxBytes) {
    const mb = (maxBytes / 1024 / 1024).toFixed(0);
    return `「${file.name}」有 ${(file.size / 1024 / 1024).toFixed(1)} MB，超过 ${mb} MB 的上限，请降低扫描分辨率`;
  }
  if (file.size === 0) return `「${file.name}」是空文件，请重新选择`;
  return null;
}

/** A file size as the clerk reads it: "820 KB", "1.4 MB". */
export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${Math.round(size / 1024)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

// ---- one material slot's upload ----

export type SlotStatus = 'chosen' | 'invalid' | 'uploading' | 'done' | 'failed';

export interface ScanSlot {
  materialId: number;
  file: File | null;
  status: SlotStatus;
  /** 0..100 while uploading. */
  progress: number;
  error: string | null;
  stored: MaterialFile | null;
}

/** The slot for a file the clerk chose: refused at once when its type or size is wrong. */
export function chosenSlot(materialId: number, file: File, maxBytes = MAX_SCAN_BYTES): ScanSlot {
  const problem = checkScan(file, maxBytes);
  return { materialId, file, status: problem ? 'invalid' : 'chosen', progress: 0, error: problem, stored: null };
}

/** The slots still to send (chosen, or failed and so to retry), in material order. */
export function pendingSlots(slots: Record<number, ScanSlot>): ScanSlot[] {
  return Object.values(slots)
    .filter((slot) => slot.status === 'chosen' || slot.status === 'failed')
    .sort((a, b) => a.materialId - b.materialId);
}

/** Every chosen file stored: the receipt may be shown. */
export function allStored(slots: Record<number, ScanSlot>): boolean {
  return Object.values(slots).every((slot) => slot.status === 'done');
}

// ---- the request ----

/** What uploadScan needs of XMLHttpRequest (fetch cannot report upload progress). */
export interface UploadRequest {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  ontimeout: (() => void) | null;
  timeout: number;
}

/** POST /api/v1/staff/cases/{case_id}/materials (multipart material_id + file) with the session's token, reporting
 * progress (0..100); an error answer rejects as ApiError, no answer as NetworkError with retry(). */
export function uploadScan(
  api: ApiClient,
  caseId: number,
  materialId: number,
  file: Blob & { name?: string },
  onProgress: (percent: number) => void = () => undefined,
  makeRequest: () => UploadRequest = () => new XMLHttpRequest() as unknown as UploadRequest,
): Promise<MaterialFile> {
  const send = (): Promise<MaterialFile> =>
    new Promise((resolve, reject) => {
      const request = makeRequest();
      request.open('POST', `/api/v1/staff/cases/${caseId}/materials`);
      const token = api.tokens.get();
      if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
      request.timeout = 120_000;
      request.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total > 0) onProgress(Math.min(99, Math.round((event.loaded / event.total) * 100)));
      };
      request.onload = () => {
        let body: unknown = request.responseText;
        try {
          body = JSON.parse(request.responseText);
        } catch {
          /* not JSON: a proxy's page */
        }
        if (request.status === 201) {
          onProgress(100);
          resolve(body as MaterialFile);
        } else {
          reject(toApiError(request.status, body));
        }
      };
      const lost = () => reject(new NetworkError(new Error('upload failed'), send));
      request.onerror = lost;
      request.ontimeout = lost;
      const form = new FormData();
      form.append('material_id', String(materialId));
      form.append('file', file, file.name ?? 'scan');
      request.send(form);
    });
  return send();
}
