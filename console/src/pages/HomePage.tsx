import { useEffect, useState } from 'react';
import { Card } from 'tdesign-react';
import { api } from '../api';
import { departmentName } from '../session/session';
import { useSession } from '../session/SessionContext';
import { roleLabel } from '../session/roles';

export default function HomePage() {
  const { staff } = useSession();
  const [department, setDepartment] = useState('…');
  const departmentId = staff?.department_id ?? null;
  useEffect(() => {
    departmentName(api, departmentId).then(setDepartment, () => setDepartment(departmentId === null ? '全市（不限部门）' : `部门 ${departmentId}`));
  }, [departmentId]);
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
          <dd data-testid="department">{department}</dd>
        </dl>
      </Card>
    </section>
  );
}
