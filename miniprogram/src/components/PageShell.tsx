import type { PropsWithChildren } from 'react';
import { View } from '@tarojs/components';
import { useElderMode } from '../hooks/useElderMode';
import { shellClass } from '../services/elderMode';

/**
 * Every page's root: carries the elder-mode class, under which app.scss enlarges text and tap targets. The NutUI
 * variables are set on this view, not on `page`: a view's CSS variables reach everything the page draws on WeChat,
 * Alipay and H5 alike, where a selector on `page` or `:root` would not follow the switch.
 */
export default function PageShell({ className, children }: PropsWithChildren<{ className?: string }>) {
  const [elder] = useElderMode();
  // H5: the page is the document's main landmark (axe's "region": all content inside landmarks).
  const landmark = process.env.TARO_ENV === 'h5' ? { role: 'main' } : {};
  return (
    <View className={shellClass(elder, className)} {...(landmark as object)}>
      {children}
    </View>
  );
}
