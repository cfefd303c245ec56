import type { ReactElement } from 'react';

/** The window pages' routes inside the console layout (paths relative to /console/). */
export const windowRoutes: ReactElement[] = [];
