/** The file types the backend stores (app/core/storage.py: PDF, JPEG, PNG, judged by content there). */
export const ACCEPTED_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/** The MIME type a file name's extension stands for ('' for any other). */
export function typeOfName(name: string): string {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  return ACCEPTED_TYPES[extension] ?? '';
}
