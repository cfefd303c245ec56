import { Text, View } from '@tarojs/components';
import { useElderMode } from '../hooks/useElderMode';

/**
 * The one visible elder-mode switch (MIIT 2021: 一键切换): a tap, no gesture; a switch role and its state for screen
 * readers on H5 (the mini-programs read the visible words, which say the state too).
 */
export default function ElderSwitch({ tone = 'light' }: { tone?: 'light' | 'dark' }) {
  const [elder, setElder] = useElderMode();
  const toggle = () => setElder(!elder);
  const a11y =
    process.env.TARO_ENV === 'h5'
      ? {
          role: 'switch',
          tabIndex: 0,
          'aria-checked': elder ? 'true' : 'false',
          'aria-label': '长辈模式（大字体）',
          onKeyDown: (event: { key: string; preventDefault(): void }) => {
            if (event.key !== 'Enter' && event.key !== ' ') return;
            event.preventDefault();
            toggle();
          },
        }
      : {};
  return (
    <View className={`elder-switch elder-switch--${tone} ${elder ? 'is-on' : ''}`} data-testid="elder-switch" onClick={toggle} {...(a11y as object)}>
      <Text className="elder-switch-text">{elder ? '长辈模式：开' : '长辈模式：关'}</Text>
      <View className="elder-switch-track">
        <View className="elder-switch-knob" />
      </View>
    </View>
  );
}
