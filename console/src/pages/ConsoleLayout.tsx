import { Button, Layout, Menu } from 'tdesign-react';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useSession } from '../session/SessionContext';
import { mayOpen, menuItemOf, menusFor, roleLabel } from '../session/roles';
import ForbiddenPage from './ForbiddenPage';
import { AlertBell, UnreadAlertsProvider, UnreadBadge } from '../alerts/UnreadAlerts';
import '../alerts/alerts.css';

// A plain <header>: TDesign's Layout.Header paints its own background over ours.
const { Aside, Content } = Layout;

export default function ConsoleLayout() {
  const { staff, logout } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  if (!staff) return null;
  const items = menusFor(staff.roles);

  return (
    <UnreadAlertsProvider>
      <Layout className="console">
        <header className="console-header">
          <span className="brand">临江市政务服务 · 工作台</span>
          <span className="who" data-testid="who">
            {staff.name}（{roleLabel(staff.roles)}）
          </span>
          <AlertBell />
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
                    <span>{item.label}</span>
                    {item.path === '/alerts' ? <UnreadBadge /> : null}
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
    </UnreadAlertsProvider>
  );
}
