import { Button, Layout, Menu } from 'tdesign-react';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useSession } from '../session/SessionContext';
import { mayOpen, menuItemOf, menusFor, roleLabel } from '../session/roles';
import ForbiddenPage from './ForbiddenPage';

// A plain <header>: TDesign's Layout.Header paints its own background over ours.
const { Aside, Content } = Layout;

export default function ConsoleLayout() {
  const { staff, logout } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  if (!staff) return null;
  const items = menusFor(staff.roles);

  return (
    <Layout className="console">
      <header className="console-header">
        <span className="brand">临江市政务服务 · 工作台</span>
        <span className="who" data-testid="who">
          {staff.name}（{roleLabel(staff.roles)}）
        </span>
        <Button variant="outline" onClick={() => logout().then(() => navigate('/login', { replace: true }))}>
          退出登录
        </Button>
      </header>
      <Layout>
        <Aside className="console-aside">
          <nav aria-label="主菜单">
            <Menu value={location.pathname} onChange={(value) => navigate(String(value))}>
              {items.map((item) => (
                <Menu.MenuItem key={item.path} value={item.path}>
                  {item.label}
                </Menu.MenuItem>
              ))}
            </Menu>
          </nav>
        </Aside>
        <Content className="console-content">
          {mayOpen(location.pathname, staff.roles) ? <Outlet /> : <ForbiddenPage item={menuItemOf(location.pathname)} />}
        </Content>
      </Layout>
    </Layout>
  );
}
