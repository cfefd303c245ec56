import type { ApiClient, Schema } from '@govhall/api-client';

export type Alert = Schema<'AlertOut'>;

const KIND_LINKS: Record<string, string> = { case: '/cases', ticket: '/tickets', rating: '/tickets' };

/** Where the console shows what an alert is about (a case opens its desk), or null. */
export function alertLink(alert: Pick<Alert, 'subject'>): string | null {
  const type = alert.subject?.type as string | undefined;
  const id = alert.subject?.id as number | undefined;
  if (type === 'case' && id) return `/cases/${id}`;
  return type ? (KIND_LINKS[type] ?? null) : null;
}

/** The badge text beside 消息提醒: nothing for none, 99+ past 99. */
export function badgeText(unread: number): string {
  if (unread <= 0) return '';
  return unread > 99 ? '99+' : String(unread);
}

/** Alert calls of the console. */
export function alertService(client: ApiClient) {
  return {
    list: (page: number, unreadOnly: boolean) =>
      client.GET('/api/v1/staff/alerts', { query: { page, page_size: 20, unread: unreadOnly } }),
    unread: async (): Promise<number> => (await client.GET('/api/v1/staff/alerts/unread-count')).unread,
    read: (id: number): Promise<Alert> => client.POST('/api/v1/staff/alerts/{alert_id}/read', { path: { alert_id: id } }),
    readAll: () => client.POST('/api/v1/staff/alerts/read-all'),
  };
}

export type AlertService = ReturnType<typeof alertService>;

type Listener = (unread: number) => void;

/**
 * The unread count the header and the alerts page share: polled, and set at once when the page reads an alert, so
 * the badge drops without waiting for the next poll.
 */
export function unreadStore(load: () => Promise<number>) {
  let unread = 0;
  const listeners = new Set<Listener>();
  const publish = (value: number) => {
    unread = Math.max(0, value);
    listeners.forEach((listener) => listener(unread));
  };
  return {
    get: () => unread,
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set: publish,
    async refresh(): Promise<number> {
      try {
        publish(await load());
      } catch {
        // A failed poll keeps the last count; the next poll tries again.
      }
      return unread;
    },
  };
}

export type UnreadStore = ReturnType<typeof unreadStore>;
