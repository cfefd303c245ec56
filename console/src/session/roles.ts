/** The staff roles of the backend (app/identity/schemas.py RoleName) and the console's menus per role. */
export type Role = 'clerk' | 'approver' | 'dept_admin' | 'supervisor' | 'admin';

export const ROLE_NAMES: Record<Role, string> = {
  clerk: '受理窗口',
  approver: '审批人',
  dept_admin: '部门管理员',
  supervisor: '监督员',
  admin: '系统管理员',
};

export interface MenuItem {
  path: string;
  label: string;
  /** Who sees it; the same roles the backend's staff_required() lets through for the endpoints the page uses. */
  roles: readonly Role[] | 'all';
}

// Mirrors the roles of the routes each page calls (CASE_STAFF_ROLES, QUEUE_ROLES, TICKET_STAFF_ROLES ...), so a
// menu never leads to a page whose every call is 403. The pages themselves come with issue #14.
export const MENU: readonly MenuItem[] = [
  { path: '/', label: '首页', roles: 'all' },
  // routes/cases.tsx
  { path: '/cases', label: '办件队列', roles: ['clerk', 'approver', 'dept_admin', 'supervisor', 'admin'] },
  { path: '/filing', label: '窗口收件', roles: ['clerk'] },
  // routes/window.tsx
  { path: '/window', label: '窗口叫号', roles: ['clerk', 'supervisor', 'admin'] },
  { path: '/tickets', label: '工单与整改', roles: ['clerk', 'approver', 'dept_admin', 'supervisor', 'admin'] },
  { path: '/alerts', label: '消息提醒', roles: 'all' },
  // routes/supervision.tsx
  { path: '/supervision', label: '监督看板', roles: ['supervisor', 'dept_admin', 'admin'] },
  { path: '/admin/audit', label: '审计日志', roles: ['admin'] },
  { path: '/admin/deliveries', label: '消息投递', roles: ['admin'] },
  { path: '/admin/payments', label: '对账与退款', roles: ['admin'] },
  // routes/admin.tsx
  { path: '/admin/matters', label: '事项指南', roles: ['dept_admin', 'admin'] },
  { path: '/admin/halls', label: '大厅与排班', roles: ['dept_admin', 'admin'] },
  // The calendar is the whole city's (app/core/calendar_routes.py: admin only).
  { path: '/admin/calendar', label: '工作日历', roles: ['admin'] },
  { path: '/admin/staff', label: '账号管理', roles: ['admin'] },
];

/** The menu items this staff member may open, in menu order. */
export function menusFor(roles: readonly string[]): MenuItem[] {
  return MENU.filter((item) => item.roles === 'all' || item.roles.some((role) => roles.includes(role)));
}

/** The roles as Chinese names, for the header ("受理窗口、审批人"); unknown roles are shown as they are. */
export function roleLabel(roles: readonly string[]): string {
  return roles.map((role) => ROLE_NAMES[role as Role] ?? role).join('、');
}

/** The menu entry a path belongs to (the longest menu path it starts with), or undefined for pages outside the menu. */
export function menuItemOf(pathname: string): MenuItem | undefined {
  return MENU.filter((item) => item.path !== '/' && (pathname === item.path || pathname.startsWith(`${item.path}/`)))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** Whether these roles may open the page at this path (its menu entry's roles; pages outside the menu: yes). */
export function mayOpen(pathname: string, roles: readonly string[]): boolean {
  const item = menuItemOf(pathname);
  return !item || item.roles === 'all' || item.roles.some((role) => roles.includes(role));
}
