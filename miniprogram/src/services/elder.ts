import Taro from '@tarojs/taro';
import { createElderMode } from './elderMode';

// On H5 <html> carries the class too; mini-programs have no document (everything a page draws is inside PageShell).
const root = process.env.TARO_ENV === 'h5' && typeof document !== 'undefined' ? document.documentElement.classList : null;

const elderMode = createElderMode(
  { get: (key) => Taro.getStorageSync(key), set: (key, value) => Taro.setStorageSync(key, value) },
  root,
);

export const isElderMode = elderMode.isOn;
export const setElderMode = elderMode.set;
export const onElderModeChange = elderMode.subscribe;
