import type { Role } from '../session/roles';

// Staff who work a department's cases must belong to one; supervisors and admins may see the whole city.
const CITYWIDE: readonly Role[] = ['supervisor', 'admin'];

export interface StaffForm {
  username: string;
  name: string;
  password: string;
  roles: Role[];
  departmentId: number | null;
}

/** The problems of an account form in plain Chinese (empty when it may be sent); `creating` asks for username and password. */
export function staffFormProblems(form: StaffForm, creating: boolean): string[] {
  const problems: string[] = [];
  if (creating && !/^[A-Za-z0-9_.@-]{3,64}$/.test(form.username.trim())) problems.push('用户名为 3 位以上字母、数字或 _.@-。');
  if (!form.name.trim()) problems.push('请填写姓名。');
  if (creating && !strongEnough(form.password)) problems.push('初始密码至少 10 位，且同时含字母和数字。');
  if (form.roles.length === 0) problems.push('至少选择一个角色。');
  if (form.departmentId === null && form.roles.some((role) => !CITYWIDE.includes(role))) {
    problems.push('受理窗口、审批人和部门管理员必须属于一个部门。');
  }
  return problems;
}

/** The backend's password rule (app/identity/service.py): 10 characters or more, letters and digits. */
export function strongEnough(password: string): boolean {
  return password.length >= 10 && /[A-Za-z]/.test(password) && /\d/.test(password);
}

/** A temporary password for a reset: 12 characters without the look-alikes 0/O, 1/l/I. */
export function temporaryPassword(random: () => number = Math.random): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const pick = (letters: string) => letters[Math.floor(random() * letters.length)];
  // One letter and one digit for certain, so the backend's rule always holds.
  return `${pick('abcdefghijkmnpqrstuvwxyz')}${pick('23456789')}${Array.from({ length: 10 }, () => pick(alphabet)).join('')}`;
}
