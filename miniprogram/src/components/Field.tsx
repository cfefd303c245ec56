import { Input, Text, View } from '@tarojs/components';
import type { InputProps } from '@tarojs/components';

/**
 * A labelled text field: the visible label above, and the same words as the input's accessible name on H5 (Taro's
 * Input draws its <input> inside a custom element, where a <label for> cannot reach; nativeProps lands on it).
 */
export default function Field(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string;
  placeholder?: string;
  type?: InputProps['type'];
  maxlength?: number;
  testId?: string;
}) {
  return (
    <View className="gh-field">
      <Text className="gh-label">{props.label}</Text>
      <Input
        className="gh-input"
        value={props.value}
        type={props.type ?? 'text'}
        maxlength={props.maxlength ?? 140}
        placeholder={props.placeholder}
        onInput={(event) => props.onInput(event.detail.value)}
        nativeProps={{ 'aria-label': props.label, 'aria-invalid': props.error ? 'true' : 'false', 'data-testid': props.testId }}
      />
      {props.error && (
        <Text className="gh-field-error">{props.error}</Text>
      )}
    </View>
  );
}
