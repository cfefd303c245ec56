import type { ReactElement } from 'react';

/** The supervision pages' routes inside the console layout (paths relative to /console/). */
export const supervisionRoutes: ReactElement[] = [];
