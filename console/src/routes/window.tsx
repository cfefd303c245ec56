import type { ReactElement } from 'react';
import { Route } from 'react-router-dom';
import AlertsPage from '../alerts/AlertsPage';
import TicketsPage from '../tickets/TicketsPage';
import WindowPage from '../window/WindowPage';

/** The window pages' routes inside the console layout (paths relative to /console/). */
export const windowRoutes: ReactElement[] = [
  <Route key="window" path="window" element={<WindowPage />} />,
  <Route key="tickets" path="tickets" element={<TicketsPage />} />,
  <Route key="alerts" path="alerts" element={<AlertsPage />} />,
];
