import { ApiError, NetworkError } from '@govhall/api-client';

function clock(iso: unknown): string | null {
  if (typeof iso !== 'string') return null;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  // The hall works on Beijing time whatever the clerk's browser says.
  return at.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai' });
}

/** What to tell a clerk whose login failed: what happened and what to do next (codes of app/identity/errors.py). */
export function loginErrorText(error: unknown): string {
  if (error instanceof NetworkError) return '无法连接服务器，请检查网络后重试。';
  if (!(error instanceof ApiError)) return '登录失败，请稍后重试。';
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return '用户名或密码错误。连续输错多次账号将被临时锁定，忘记密码请联系本部门管理员重置。';
    case 'ACCOUNT_LOCKED': {
      const until = clock(error.details?.locked_until);
      return until
        ? `密码错误次数过多，账号已锁定至 ${until}（北京时间），请届时再试，或联系管理员解锁。`
        : '密码错误次数过多，账号已临时锁定，请稍后再试，或联系管理员解锁。';
    }
    case 'RATE_LIMITED':
      return '登录尝试太频繁，请一分钟后再试。';
    case 'VALIDATION_FAILED':
      return '请填写用户名和密码。';
    default:
      return error.message;
  }
}

/** What to tell a clerk when any other call fails (a 403 is explained, not hidden). */
export function apiErrorText(error: unknown): string {
  if (error instanceof NetworkError) return '网络连接失败，请检查网络后重试。';
  if (error instanceof ApiError) {
    if (error.status === 403) return `没有权限：${error.message}。如需此权限，请联系本部门管理员。`;
    return error.message;
  }
  return '操作失败，请稍后重试。';
}
