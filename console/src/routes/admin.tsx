import type { ReactElement } from 'react';
import { Route } from 'react-router-dom';
import CalendarPage from '../pages/admin/CalendarPage';
import HallsPage from '../pages/admin/HallsPage';
import MattersPage from '../pages/admin/MattersPage';
import StaffPage from '../pages/admin/StaffPage';

/** The admin pages' routes inside the console layout (paths relative to /console/). */
export const adminRoutes: ReactElement[] = [
  <Route key="admin-matters" path="admin/matters" element={<MattersPage />} />,
  <Route key="admin-halls" path="admin/halls" element={<HallsPage />} />,
  <Route key="admin-calendar" path="admin/calendar" element={<CalendarPage />} />,
  <Route key="admin-staff" path="admin/staff" element={<StaffPage />} />,
];
