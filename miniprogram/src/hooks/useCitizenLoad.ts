import { useCallback, useEffect, useState } from 'react';
import platform from '../platform';
import { api } from '../services/api';
import { describeFailure } from '../services/errors';
import { ensureLogin } from '../services/session';

/**
 * Logs in (silently, through the platform) and runs the page's load; the failure as the page says it, with a retry
 * where one makes sense. `reload` runs the load again (after a change).
 */
export function useCitizenLoad(load: () => Promise<void>, deps: unknown[] = []) {
  const [loading, setLoading] = useState(true);
  const [failure, setFailure] = useState<{ text: string; retry: boolean } | null>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setFailure(null);
    try {
      await ensureLogin(api, platform);
      await run();
    } catch (error) {
      setFailure(describeFailure(error));
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { loading, failure, setFailure, reload };
}
