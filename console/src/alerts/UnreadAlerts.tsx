import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../api';
import { alertService, badgeText, unreadStore } from './alerts';
import type { UnreadStore } from './alerts';

const POLL_MS = 30_000;

const StoreContext = createContext<UnreadStore | null>(null);

/** Keeps the unread alert count for the header and the menu, polled every 30 s while the console is open. */
export function UnreadAlertsProvider({ children }: { children: ReactNode }) {
  const store = useMemo(() => unreadStore(() => alertService(api).unread()), []);
  useEffect(() => {
    void store.refresh();
    const timer = setInterval(() => void store.refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [store]);
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/** The store (for the alerts page to set the count at once) and the current count. */
export function useUnreadAlerts(): { store: UnreadStore | null; unread: number } {
  const store = useContext(StoreContext);
  const [unread, setUnread] = useState(store?.get() ?? 0);
  useEffect(() => {
    if (!store) return undefined;
    setUnread(store.get());
    return store.subscribe(setUnread);
  }, [store]);
  return { store, unread };
}

/** The count beside 消息提醒 in the menu. */
export function UnreadBadge() {
  const { unread } = useUnreadAlerts();
  const text = badgeText(unread);
  return text ? (
    <span className="alert-badge" data-testid="menu-unread" aria-label={`${unread} 条未读`}>
      {text}
    </span>
  ) : null;
}

/** The header's link to the alerts, with the unread count in words a screen reader says too. */
export function AlertBell() {
  const { unread } = useUnreadAlerts();
  const navigate = useNavigate();
  return (
    <button type="button" className="alert-bell" data-testid="header-unread" onClick={() => navigate('/alerts')}>
      消息提醒{unread > 0 ? `（${badgeText(unread)} 条未读）` : ''}
    </button>
  );
}
