import type { ReactElement } from 'react';
import { Route } from 'react-router-dom';
import CaseDeskPage from '../pages/cases/CaseDeskPage';
import CaseQueuePage from '../pages/cases/CaseQueuePage';
import FilingPage from '../pages/cases/FilingPage';
import ReceiptPage from '../pages/cases/ReceiptPage';

/** The cases pages' routes inside the console layout (paths relative to /console/). */
export const casesRoutes: ReactElement[] = [
  <Route key="cases" path="cases" element={<CaseQueuePage />} />,
  <Route key="case" path="cases/:caseId" element={<CaseDeskPage />} />,
  <Route key="filing" path="filing" element={<FilingPage />} />,
  <Route key="receipt" path="filing/:caseId/receipt" element={<ReceiptPage />} />,
];
