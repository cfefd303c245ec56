/** Exports: the staff member's spreadsheet of a report, saved by the browser. */
import type { ApiClient } from '@govhall/api-client';
import { NetworkError, toApiError } from '@govhall/api-client';
import type { Period } from './period';

export type ReportName = 'departments' | 'halls' | 'weekly';
export type FileFormat = 'csv' | 'xlsx';

/** The export's address: the same period (and department) as the figures on screen. */
export function exportUrl(report: ReportName, format: FileFormat, period: Period, departmentId?: number | null): string {
  const query = new URLSearchParams({ report, format, from: period.from, to: period.to });
  if (departmentId) query.set('department_id', String(departmentId));
  return `/api/v1/staff/stats/export?${query.toString()}`;
}

/** The file name the server gave (Content-Disposition), or one of our own. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match ? match[1] : fallback;
}

/**
 * Fetch the file with the session's token and hand it to the browser. The typed client answers JSON only, so this
 * one binary download asks fetch directly, with the same token and the same error shape.
 */
export async function downloadExport(client: ApiClient, url: string, fallbackName: string): Promise<string> {
  const token = client.tokens.get();
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch (cause) {
    throw new NetworkError(cause, () => downloadExport(client, url, fallbackName));
  }
  if (!response.ok) throw toApiError(response.status, await response.json().catch(() => null));
  const name = fileNameOf(response.headers.get('Content-Disposition'), fallbackName);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return name;
}
