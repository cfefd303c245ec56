/** Timers as the poller needs them (injected in tests). */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Poller {
  /** Runs at once, then every interval after each run has finished (never two at a time). */
  start(): void;
  /** No run after this one (a run under way finishes but schedules nothing). */
  stop(): void;
  readonly running: boolean;
}

/** Refreshes while the page is shown: the page starts it when shown and stops it when hidden or closed. */
export function createPoller(run: () => Promise<unknown>, intervalMs: number, timers: Timers = realTimers): Poller {
  let active = false;
  let generation = 0;
  let handle: unknown = null;

  async function tick(mine: number) {
    handle = null;
    try {
      await run();
    } catch {
      // A failed refresh shows its failure through run's own state; the next tick tries again.
    }
    if (active && mine === generation) handle = timers.set(() => void tick(mine), intervalMs);
  }

  return {
    start() {
      if (active) return;
      active = true;
      generation += 1;
      void tick(generation);
    },
    stop() {
      active = false;
      generation += 1;
      if (handle !== null) timers.clear(handle);
      handle = null;
    },
    get running() {
      return active;
    },
  };
}
