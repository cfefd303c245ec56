import { useCallback, useEffect, useState } from 'react';
import { apiErrorText } from '../../session/errors';

/** Loads once and on reload(); the error is the plain-Chinese explanation of apiErrorText. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setError(null);
    run().then(
      (value) => live && setData(value),
      (failure) => live && setError(apiErrorText(failure)),
    );
    return () => {
      live = false;
    };
  }, [run, tick]);
  return { data, error, reload: () => setTick((value) => value + 1) };
}
