import { Loading } from 'tdesign-react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { useSession } from './session/SessionContext';
import { MENU } from './session/roles';
import ConsoleLayout from './pages/ConsoleLayout';
import HomePage from './pages/HomePage';
import LoginPage from './pages/LoginPage';
import PlaceholderPage from './pages/PlaceholderPage';
import { adminRoutes } from './routes/admin';
import { casesRoutes } from './routes/cases';
import { publicRoutes } from './routes/public';
import { supervisionRoutes } from './routes/supervision';
import { windowRoutes } from './routes/window';

// A page group's own file adds its routes, so one group's pages never touch another's lines.
const PAGE_ROUTES = [...casesRoutes, ...windowRoutes, ...supervisionRoutes, ...adminRoutes];
const ROUTED = new Set(PAGE_ROUTES.map((route) => `/${route.props.path as string}`));

export default function App() {
  const { staff } = useSession();
  if (staff === undefined) return <Loading className="boot" text="正在加载…" />;
  if (!staff) {
    return (
      <Routes>
        {publicRoutes}
        <Route path="/login" element={<LoginPage />} />
        <Route path="*" element={<Navigate to="/login" replace />} />
      </Routes>
    );
  }
  return (
    <Routes>
      {publicRoutes}
      <Route element={<ConsoleLayout />}>
        <Route index element={<HomePage />} />
        {PAGE_ROUTES}
        {MENU.filter((item) => item.path !== '/' && !ROUTED.has(item.path)).map((item) => (
          <Route key={item.path} path={item.path.slice(1)} element={<PlaceholderPage title={item.label} />} />
        ))}
        <Route path="*" element={<PlaceholderPage title="页面不存在" />} />
      </Route>
      <Route path="/login" element={<Navigate to="/" replace />} />
    </Routes>
  );
}
