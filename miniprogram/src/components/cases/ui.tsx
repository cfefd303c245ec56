import type { PropsWithChildren, ReactNode } from 'react';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { LIGHT_TEXT, STATUS_TEXT } from '../../services/cases';
import type { Case } from '../../services/cases';
import './cases.scss';

/**
 * Spread on a View that acts (role link, radio, checkbox, switch): Taro's View takes no tabIndex in its types, yet
 * keyboard users must reach it (and axe wants Taro's scrolling page to hold something focusable).
 */
export const FOCUSABLE = { tabIndex: 0 } as Record<string, unknown>;

/** A navigation control that looks like an outline button and is a focusable link. */
export function LinkButton({ text, onClick, testId }: { text: string; onClick: () => void; testId?: string }) {
  return (
    <View className="cz-link-button" role="link" {...FOCUSABLE} data-testid={testId} onClick={onClick}>
      {text}
    </View>
  );
}

/** A white card with a heading. */
export function Section({ title, extra, children, label }: PropsWithChildren<{ title?: string; extra?: ReactNode; label?: string }>) {
  return (
    <View className="cz-section" aria-label={label ?? title}>
      {(title || extra) && (
        <View className="cz-section-head">
          {title && <Text className="cz-section-title">{title}</Text>}
          {extra}
        </View>
      )}
      {children}
    </View>
  );
}

/** A message the user must read: an error (with an optional retry) or a success. */
export function Notice({ tone = 'error', text, onRetry, testId }: { tone?: 'error' | 'ok' | 'info'; text: string; onRetry?: () => void; testId?: string }) {
  return (
    <View className={`cz-notice cz-notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <Text className="cz-notice-text">{text}</Text>
      {onRetry && (
        <Button size="small" type="primary" onClick={onRetry}>
          重试
        </Button>
      )}
    </View>
  );
}

/** The traffic light with its words (colour is never the only sign). */
export function LightBadge({ light }: { light: Case['light'] }) {
  if (!light) return null;
  return (
    <View className={`cz-light cz-light-${light}`} data-testid="light">
      <View className="cz-light-dot" />
      <Text>{LIGHT_TEXT[light]}</Text>
    </View>
  );
}

export function StatusTag({ status }: { status: Case['status'] }) {
  return (
    <Text className={`cz-status cz-status-${status}`} data-testid="status">
      {STATUS_TEXT[status]}
    </Text>
  );
}

/** A label above its control. */
export function Field({ label, hint, error, children, required }: PropsWithChildren<{ label: string; hint?: string; error?: string; required?: boolean }>) {
  return (
    <View className="cz-field">
      <Text className="cz-field-label">
        {label}
        {required && <Text className="cz-required"> *必填</Text>}
      </Text>
      {children}
      {hint && <Text className="cz-field-hint">{hint}</Text>}
      {error && (
        <View className="cz-field-error" role="alert">
          {error}
        </View>
      )}
    </View>
  );
}

/** Label: value, on one row. */
export function Row({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <View className="cz-row">
      <Text className="cz-row-label">{label}</Text>
      <Text className="cz-row-value" data-testid={testId}>
        {value}
      </Text>
    </View>
  );
}

export function Empty({ text }: { text: string }) {
  return <Text className="cz-empty">{text}</Text>;
}
