import Taro from '@tarojs/taro';

/** Elder mode (适老化): one switch, remembered in storage, read by every page through PageShell. */
const KEY = 'govhall.elder';
type Listener = (on: boolean) => void;
const listeners = new Set<Listener>();

export function isElderMode(): boolean {
  try {
    return Taro.getStorageSync(KEY) === '1';
  } catch {
    return false;
  }
}

export function setElderMode(on: boolean): void {
  Taro.setStorageSync(KEY, on ? '1' : '0');
  listeners.forEach((listener) => listener(on));
}

export function onElderModeChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
