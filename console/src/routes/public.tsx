import type { ReactElement } from 'react';
import { Route } from 'react-router-dom';
import HallScreenPage from '../window/HallScreenPage';

/** Pages shown without a staff login and without the console frame (the hall's waiting-room screen). */
export const publicRoutes: ReactElement[] = [
  <Route key="hall-screen" path="halls/:hallId/screen" element={<HallScreenPage />} />,
];
