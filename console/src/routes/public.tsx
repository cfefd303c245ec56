import type { ReactElement } from 'react';

/** Pages shown without a staff login and without the console frame (the hall's waiting-room screen). */
export const publicRoutes: ReactElement[] = [];
