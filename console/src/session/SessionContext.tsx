import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { SessionService, Staff } from './session';
import { SESSION_ENDED_EVENT, rememberSessionEnded } from './ended';

interface SessionState {
  /** undefined while the stored token is being checked. */
  staff: Staff | null | undefined;
  login(username: string, password: string): Promise<Staff>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ service, children }: { service: SessionService; children: ReactNode }) {
  const [staff, setStaff] = useState<Staff | null | undefined>(undefined);

  useEffect(() => {
    service.restore().then(setStaff, () => setStaff(null));
  }, [service]);

  // The server refused the token (account closed, roles changed, expired): back to the login page, which says why.
  useEffect(() => {
    const ended = () => {
      rememberSessionEnded();
      setStaff((current) => (current ? null : current));
    };
    window.addEventListener(SESSION_ENDED_EVENT, ended);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, ended);
  }, []);

  const login = useCallback(
    async (username: string, password: string) => {
      const who = await service.login(username, password);
      setStaff(who);
      return who;
    },
    [service],
  );
  const logout = useCallback(async () => {
    await service.logout();
    setStaff(null);
  }, [service]);

  const value = useMemo(() => ({ staff, login, logout }), [staff, login, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}
