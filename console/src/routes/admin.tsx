import type { ReactElement } from 'react';

/** The admin pages' routes inside the console layout (paths relative to /console/). */
export const adminRoutes: ReactElement[] = [];
