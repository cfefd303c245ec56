import type { ReactNode } from 'react';
import { Text, View } from '@tarojs/components';
import type { Explanation } from '../services/booking';

/** A refusal explained: what happened, what to do next, and the button that helps (given by the page). */
export default function Refusal({ explanation, children }: { explanation: Explanation; children?: ReactNode }) {
  return (
    <View className="refusal" role="alert">
      <Text className="refusal-title">{explanation.title}</Text>
      <Text className="refusal-text">{explanation.text}</Text>
      <Text className="refusal-next">{explanation.next}</Text>
      {children && <View className="refusal-actions">{children}</View>}
    </View>
  );
}
