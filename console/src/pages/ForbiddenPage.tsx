import { Link } from 'react-router-dom';
import { ROLE_NAMES, type MenuItem, type Role } from '../session/roles';

/** What a staff member sees on a page their roles do not open: why, and who can, instead of an empty page. */
export default function ForbiddenPage({ item }: { item?: MenuItem }) {
  const who = item && item.roles !== 'all' ? item.roles.map((role: Role) => ROLE_NAMES[role]).join('、') : '';
  return (
    <section role="alert" className="forbidden">
      <h1>无权访问{item ? `「${item.label}」` : '此页面'}</h1>
      <p>您的账号角色不能打开此页面{who ? `，需要以下角色之一：${who}` : ''}。如需开通，请联系系统管理员。</p>
      <p>
        <Link to="/">返回首页</Link>
      </p>
    </section>
  );
}
