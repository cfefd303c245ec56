/** Where the login token lives: localStorage in the console, Taro's storage in the app, memory in tests. */
export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export function memoryTokenStore(initial: string | null = null): TokenStore {
  let token = initial;
  return {
    get: () => token,
    set: (value) => {
      token = value;
    },
  };
}

/** A TokenStore over a Web Storage-like object (window.localStorage). */
export function webTokenStore(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>, key: string): TokenStore {
  return {
    get: () => storage.getItem(key),
    set: (value) => (value === null ? storage.removeItem(key) : storage.setItem(key, value)),
  };
}
