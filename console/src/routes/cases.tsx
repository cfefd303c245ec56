import type { ReactElement } from 'react';

/** The cases pages' routes inside the console layout (paths relative to /console/). */
export const casesRoutes: ReactElement[] = [];
