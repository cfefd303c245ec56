import { Card } from 'tdesign-react';
import { useSession } from '../session/SessionContext';
import { roleLabel } from '../session/roles';

export default function HomePage() {
  const { staff } = useSession();
  if (!staff) return null;
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">您好，{staff.name}</h1>
      <Card bordered>
        <dl className="profile">
          <dt>用户名</dt>
          <dd>{staff.username}</dd>
          <dt>角色</dt>
          <dd>{roleLabel(staff.roles)}</dd>
          <dt>所属部门</dt>
          <dd>{staff.department_id ?? '全市（不限部门）'}</dd>
        </dl>
      </Card>
    </section>
  );
}
