/** Fired on window when the server refuses the session's token mid-session (see api.ts). */
export const SESSION_ENDED_EVENT = 'govhall:session-ended';

const ENDED_KEY = 'govhall.console.session-ended';

export const SESSION_ENDED_TEXT =
  '您的登录已失效：账号可能已被停用、角色或部门已变更，或登录已过期。请重新登录；如无法登录，请联系系统管理员。';

/** Remembers, for the login page, that the session ended by itself rather than by 退出登录. */
export function rememberSessionEnded(storage: Pick<Storage, 'setItem'> = window.sessionStorage): void {
  storage.setItem(ENDED_KEY, '1');
}

/** The explanation to show once on the login page, or null (reading it forgets it). */
export function takeSessionEndedNotice(storage: Pick<Storage, 'getItem' | 'removeItem'> = window.sessionStorage): string | null {
  const ended = storage.getItem(ENDED_KEY);
  storage.removeItem(ENDED_KEY);
  return ended ? SESSION_ENDED_TEXT : null;
}
