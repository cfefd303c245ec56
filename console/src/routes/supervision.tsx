import type { ReactElement } from 'react';
import { Route } from 'react-router-dom';
import AuditPage from '../pages/supervision/AuditPage';
import DeliveriesPage from '../pages/supervision/DeliveriesPage';
import PaymentsPage from '../pages/supervision/PaymentsPage';
import SupervisionPage from '../pages/supervision/SupervisionPage';

/** The supervision pages' routes inside the console layout (paths relative to /console/). */
export const supervisionRoutes: ReactElement[] = [
  <Route key="supervision" path="supervision" element={<SupervisionPage />} />,
  <Route key="audit" path="admin/audit" element={<AuditPage />} />,
  <Route key="deliveries" path="admin/deliveries" element={<DeliveriesPage />} />,
  <Route key="payments" path="admin/payments" element={<PaymentsPage />} />,
];
