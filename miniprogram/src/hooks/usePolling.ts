import { useEffect, useRef } from 'react';
import { useDidHide, useDidShow } from '@tarojs/taro';
import { createPoller } from '../services/poller';
import type { Poller } from '../services/poller';

/** Calls `run` now and every `intervalMs` while the page is shown; stops when it is hidden or closed. */
export function usePolling(run: () => Promise<unknown>, intervalMs: number, enabled = true): void {
  const latest = useRef(run);
  latest.current = run;
  const poller = useRef<Poller | null>(null);
  poller.current ??= createPoller(() => latest.current(), intervalMs);

  useEffect(() => {
    if (enabled) poller.current?.start();
    else poller.current?.stop();
    return () => poller.current?.stop();
  }, [enabled]);
  useDidShow(() => {
    if (enabled) poller.current?.start();
  });
  useDidHide(() => poller.current?.stop());
}
