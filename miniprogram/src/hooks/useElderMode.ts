import { useEffect, useState } from 'react';
import { useDidShow } from '@tarojs/taro';
import { isElderMode, onElderModeChange, setElderMode } from '../services/elder';

/** The remembered elder-mode switch; pages re-read it when shown, since another page may have flipped it. */
export function useElderMode(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(isElderMode);
  useEffect(() => onElderModeChange(setOn), []);
  useDidShow(() => setOn(isElderMode()));
  return [on, setElderMode];
}
