import { useCallback, useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import ActionButton from '../../components/ActionButton';
import ElderSwitch from '../../components/ElderSwitch';
import LinkRow from '../../components/LinkRow';
import PageShell from '../../components/PageShell';
import platform from '../../platform';
import { api } from '../../services/api';
import { describeFailure } from '../../services/errors';
import { realNameSummary } from '../../services/identity';
import { channelsText, ensureLogin, logout } from '../../services/session';
import type { Citizen } from '../../services/session';
import './index.scss';

type State = { kind: 'loading' } | { kind: 'in'; citizen: Citizen } | { kind: 'out' } | { kind: 'failed'; text: string; retry: boolean };

export default function Me() {
  const [state, setState] = useState<State>({ kind: 'loading' });

  const load = useCallback(async () => {
    try {
      setState({ kind: 'in', citizen: await ensureLogin(api, platform) });
    } catch (error) {
      setState({ kind: 'failed', ...describeFailure(error) });
    }
  }, []);

  // Shown again after the real-name page: the state may have changed there.
  useDidShow(() => {
    if (state.kind !== 'out') void load();
  });

  async function signOut() {
    try {
      await logout(api);
    } finally {
      setState({ kind: 'out' });
    }
  }

  const open = (url: string) => () => void Taro.navigateTo({ url });
  const citizen = state.kind === 'in' ? state.citizen : null;
  const summary = citizen ? realNameSummary(citizen) : null;

  return (
    <PageShell className="me">
      <View className="me-header">
        <View className="me-header-row">
          <Text className="me-title">我的</Text>
          <ElderSwitch />
        </View>
        <Text className="me-login" data-testid="login-state">
          {state.kind === 'loading' && '正在登录…'}
          {citizen && channelsText(citizen)}
          {state.kind === 'out' && '已退出登录'}
          {state.kind === 'failed' && '未登录'}
        </Text>
      </View>

      {state.kind === 'failed' && (
        <View className="gh-alert" role="alert">
          <Text>{state.text}</Text>
          {state.retry && (
            <View className="gh-actions">
              <ActionButton size="small" type="primary" onClick={() => void load()}>
                重试
              </ActionButton>
            </View>
          )}
        </View>
      )}

      {state.kind === 'out' && (
        <View className="gh-card">
          <Text className="gh-card-title">您已退出登录</Text>
          <Text className="gh-muted">登录凭证已失效。需要办事时点下面的按钮重新登录。</Text>
          <View className="gh-actions">
            <ActionButton type="primary" onClick={() => void load()}>
              重新登录
            </ActionButton>
          </View>
        </View>
      )}

      {summary && citizen && (
        <View className="gh-card" data-testid="real-name-card">
          <Text className="gh-card-title">{summary.title}</Text>
          {summary.lines.map((line) => (
            <Text key={line} className="me-line">
              {line}
            </Text>
          ))}
          {!summary.verified && (
            <View className="gh-actions">
              <ActionButton type="primary" onClick={open('/pages-me/identity/index')}>
                去实名认证
              </ActionButton>
            </View>
          )}
        </View>
      )}

      {citizen && (
        <View className="me-menu">
          <LinkRow title="我的办件" onOpen={() => void Taro.switchTab({ url: '/pages/cases/index' })} />
          <LinkRow title="我的消息" onOpen={open('/pages/inbox/index')} />
          <LinkRow title="代办授权" note="授权家人代办事项" onOpen={open('/pages-me/proxies/index')} testId="open-proxies" />
          <LinkRow title="实名认证" note={citizen.real_name_verified ? '已认证' : '未认证'} onOpen={open('/pages-me/identity/index')} />
        </View>
      )}

      <View className="me-menu">
        <LinkRow title="好差评公示" note="部门与大厅满意度" onOpen={open('/pages-me/figures/index')} testId="open-figures" />
      </View>

      {citizen && (
        <View className="me-logout">
          <ActionButton block type="default" onClick={() => void signOut()}>
            退出登录
          </ActionButton>
        </View>
      )}
    </PageShell>
  );
}
