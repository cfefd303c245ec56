import { Text, View } from '@tarojs/components';

/**
 * One row of a menu that opens another page: the whole row is the tap target (>= 48 px), a link for screen readers
 * and reachable by keyboard on H5 (Taro's View is a custom element there, with no role of its own).
 */
export default function LinkRow({ title, note, onOpen, testId }: { title: string; note?: string; onOpen: () => void; testId?: string }) {
  const a11y =
    process.env.TARO_ENV === 'h5'
      ? {
          role: 'link',
          tabIndex: 0,
          onKeyDown: (event: { key: string; preventDefault(): void }) => {
            if (event.key !== 'Enter') return;
            event.preventDefault();
            onOpen();
          },
        }
      : {};
  return (
    <View className="link-row" onClick={onOpen} data-testid={testId} {...(a11y as object)}>
      <Text className="link-row-title">{title}</Text>
      {note ? <Text className="link-row-note">{note}</Text> : null}
      <Text className="link-row-arrow" aria-hidden="true">
        ›
      </Text>
    </View>
  );
}
