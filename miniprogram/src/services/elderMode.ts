/** Elder mode (适老化, MIIT 2021): one switch, remembered in the platform's storage, heard by every mounted page. */
export const ELDER_KEY = 'govhall.elder';
/** The class H5 puts on <html>, so what Taro draws outside a page (showModal, showToast) is enlarged too. */
export const ELDER_ROOT_CLASS = 'elder-mode';

export interface ElderStorage {
  get(key: string): unknown;
  set(key: string, value: string): void;
}

export interface ElderMode {
  isOn(): boolean;
  set(on: boolean): void;
  subscribe(listener: (on: boolean) => void): () => void;
}

/** The switch over a storage; `root` (H5's <html> classList) follows it when given. */
export function createElderMode(storage: ElderStorage, root?: { toggle(name: string, force: boolean): unknown } | null): ElderMode {
  const listeners = new Set<(on: boolean) => void>();
  function isOn(): boolean {
    try {
      return storage.get(ELDER_KEY) === '1';
    } catch {
      return false;
    }
  }
  root?.toggle(ELDER_ROOT_CLASS, isOn());
  return {
    isOn,
    set(on) {
      storage.set(ELDER_KEY, on ? '1' : '0');
      root?.toggle(ELDER_ROOT_CLASS, on);
      listeners.forEach((listener) => listener(on));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** The class names of a page's root: elder mode adds `elder`, under which app.scss sets the larger sizes. */
export function shellClass(elder: boolean, extra?: string): string {
  return ['page-shell', elder ? 'elder' : '', extra ?? ''].filter(Boolean).join(' ');
}
