import type { ComponentProps, KeyboardEvent } from 'react';
import { Button } from '@nutui/nutui-react-taro';

type NutButtonProps = ComponentProps<typeof Button>;

export type ActionButtonProps = NutButtonProps & {
  /** What a screen reader says when the visible text alone does not name the action (e.g. "撤销 张三 的授权"). */
  label?: string;
};

/**
 * NutUI's Button for every page. On H5 NutUI draws it as Taro's <taro-button-core>, a custom element with no button
 * semantics: a screen reader does not call it a button, and the keyboard cannot reach or press it. Here it gets
 * role="button", a tab stop, aria-disabled/aria-busy and Enter/Space, the way a native <button> behaves. In the
 * mini-programs it is WeChat's and Alipay's own <button>, which their screen readers already announce.
 */
export default function ActionButton({ label, disabled, loading, onClick, children, ...rest }: ActionButtonProps) {
  if (process.env.TARO_ENV !== 'h5') {
    return (
      <Button disabled={disabled} loading={loading} onClick={onClick} {...rest}>
        {children}
      </Button>
    );
  }
  const inert = Boolean(disabled || loading);
  const semantics = {
    role: 'button',
    tabIndex: inert ? -1 : 0,
    'aria-disabled': inert ? 'true' : 'false',
    'aria-busy': loading ? 'true' : 'false',
    ...(label ? { 'aria-label': label } : {}),
    onKeyDown: (event: KeyboardEvent) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      if (!inert) (event.currentTarget as unknown as HTMLElement).click();
    },
  };
  return (
    <Button disabled={disabled} loading={loading} onClick={onClick} {...rest} {...(semantics as object)}>
      {children}
    </Button>
  );
}
