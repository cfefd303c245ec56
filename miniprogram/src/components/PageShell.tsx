import type { PropsWithChildren } from 'react';
import { View } from '@tarojs/components';
import { useElderMode } from '../hooks/useElderMode';

/** Every page's root: carries the elder-mode class, under which app.scss enlarges text and tap targets. */
export default function PageShell({ className, children }: PropsWithChildren<{ className?: string }>) {
  const [elder] = useElderMode();
  return <View className={['page-shell', elder ? 'elder' : '', className ?? ''].join(' ').trim()}>{children}</View>;
}
