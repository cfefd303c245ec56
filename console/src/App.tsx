import { Loading } from 'tdesign-react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { useSession } from './session/SessionContext';
import { MENU } from './session/roles';
import ConsoleLayout from './pages/ConsoleLayout';
import HomePage from './pages/HomePage';
import LoginPage from './pages/LoginPage';
import PlaceholderPage from './pages/PlaceholderPage';

export default function App() {
  const { staff } = useSession();
  if (staff === undefined) return <Loading className="boot" text="正在加载…" />;
  if (!staff) {
    return (
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="*" element={<Navigate to="/login" replace />} />
      </Routes>
    );
  }
  return (
    <Routes>
      <Route element={<ConsoleLayout />}>
        <Route index element={<HomePage />} />
        {MENU.filter((item) => item.path !== '/').map((item) => (
          <Route key={item.path} path={item.path.slice(1)} element={<PlaceholderPage title={item.label} />} />
        ))}
        <Route path="cases/:caseId" element={<PlaceholderPage title="办件详情" />} />
        <Route path="*" element={<PlaceholderPage title="页面不存在" />} />
      </Route>
      <Route path="/login" element={<Navigate to="/" replace />} />
    </Routes>
  );
}
