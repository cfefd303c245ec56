import { useCallback, useEffect, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import ActionButton from '../../components/ActionButton';
import Field from '../../components/Field';
import PageShell from '../../components/PageShell';
import platform from '../../platform';
import { api } from '../../services/api';
import { searchMatters } from '../../services/catalog';
import type { MatterSummary } from '../../services/catalog';
import { describeFailure } from '../../services/errors';
import { describeGrant, explainGrantFailure, grantProxy, loadProxies, revokeProxy } from '../../services/proxies';
import type { GrantForm, ProxyGrant } from '../../services/proxies';
import { ensureLogin } from '../../services/session';
import type { Citizen } from '../../services/session';
import './index.scss';

interface Lists {
  given: ProxyGrant[];
  received: ProxyGrant[];
  matterNames: Record<number, string>;
}

export default function Proxies() {
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const [lists, setLists] = useState<Lists | null>(null);
  const [words, setWords] = useState('');
  const [matches, setMatches] = useState<MatterSummary[] | null>(null);
  const [matter, setMatter] = useState<MatterSummary | null>(null);
  const [form, setForm] = useState<GrantForm>({ matterId: null, name: '', idNumber: '' });
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const who = await ensureLogin(api, platform);
      setCitizen(who);
      setLists(await loadProxies(api));
    } catch (error) {
      setMessage({ text: describeFailure(error).text, ok: false });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function findMatters() {
    try {
      setMatches(await searchMatters(api, words));
    } catch (error) {
      setMessage({ text: describeFailure(error).text, ok: false });
    }
  }

  function pick(chosen: MatterSummary) {
    setMatter(chosen);
    setForm((current) => ({ ...current, matterId: chosen.id }));
    setMatches(null);
  }

  async function grant() {
    setBusy(true);
    setMessage(null);
    try {
      const made = await grantProxy(api, form);
      setMessage({ text: `已授权 ${made.proxy.name ?? ''} 代办「${matter?.name ?? ''}」`, ok: true });
      setForm({ matterId: form.matterId, name: '', idNumber: '' });
      setLists(await loadProxies(api));
    } catch (error) {
      setMessage({ text: explainGrantFailure(error).text, ok: false });
    } finally {
      setBusy(false);
    }
  }

  async function revoke(grant: ProxyGrant, side: 'given' | 'received') {
    const { who } = describeGrant(grant, side);
    const sure = await Taro.showModal({
      title: side === 'given' ? '撤销代办授权' : '放弃代办',
      content: side === 'given' ? `撤销后 ${who} 将不能再代您办理该事项。` : '放弃后您将不能再代对方办理该事项。',
      confirmText: '确定',
      cancelText: '取消',
    });
    if (!sure.confirm) return;
    try {
      await revokeProxy(api, grant.id);
      setMessage({ text: '授权已撤销', ok: true });
    } catch (error) {
      setMessage({ text: explainGrantFailure(error).text, ok: false });
    }
    setLists(await loadProxies(api).catch(() => lists));
  }

  function renderGrants(grants: ProxyGrant[], side: 'given' | 'received') {
    if (!grants.length) return <Text className="gh-muted">暂无</Text>;
    return grants.map((grant) => {
      const { who, state } = describeGrant(grant, side);
      const matterName = lists?.matterNames[grant.matter_id] ?? `事项 ${grant.matter_id}`;
      return (
        <View key={grant.id} className={`proxy-row ${grant.active ? '' : 'is-revoked'}`} data-testid="proxy-row">
          <View className="proxy-row-text">
            <Text className="proxy-matter">{matterName}</Text>
            <Text className="proxy-who">
              {side === 'given' ? '代办人' : '委托人'}：{who}
            </Text>
            <Text className="proxy-state">{state}</Text>
          </View>
          {grant.active && (
            <ActionButton size="small" type="default" label={`${side === 'given' ? '撤销' : '放弃'}「${matterName}」的代办授权`} onClick={() => void revoke(grant, side)}>
              {side === 'given' ? '撤销' : '放弃'}
            </ActionButton>
          )}
        </View>
      );
    });
  }

  const verified = citizen?.real_name_verified;

  return (
    <PageShell className="proxies">
      <View className="gh-card">
        <Text className="gh-muted">授权家人或朋友代您办理某个事项：对方需已在本平台完成实名认证。您可以随时撤销。</Text>
      </View>

      {message && (
        <View className={message.ok ? 'gh-success' : 'gh-alert'} role={message.ok ? 'status' : 'alert'} data-testid="proxy-message">
          <Text>{message.text}</Text>
        </View>
      )}

      {citizen && !verified && (
        <View className="gh-card">
          <Text className="gh-card-title">请先完成实名认证</Text>
          <Text className="gh-muted">授权代办前需要确认您本人的身份。</Text>
          <View className="gh-actions">
            <ActionButton type="primary" onClick={() => void Taro.navigateTo({ url: '/pages-me/identity/index' })}>
              去实名认证
            </ActionButton>
          </View>
        </View>
      )}

      {verified && (
        <View className="gh-card">
          <Text className="gh-card-title">新增授权</Text>
          <Field label="代办事项" value={words} onInput={setWords} placeholder="输入事项名称，如 社保" />
          <ActionButton size="small" type="primary" onClick={() => void findMatters()}>
            查找事项
          </ActionButton>
          {matches && (
            <View className="proxy-matches" aria-label="找到的事项">
              {matches.length === 0 && <Text className="gh-muted">没有找到相关事项，换个词试试</Text>}
              {matches.map((found) => (
                <ActionButton key={found.id} className="proxy-match" size="small" type={matter?.id === found.id ? 'primary' : 'default'} onClick={() => pick(found)}>
                  {found.name}
                </ActionButton>
              ))}
            </View>
          )}
          <Text className="proxy-picked" data-testid="picked-matter">
            {matter ? `已选事项：${matter.name}` : '尚未选择事项'}
          </Text>
          <Field label="代办人姓名" value={form.name} onInput={(name) => setForm((current) => ({ ...current, name }))} placeholder="对方身份证上的姓名" maxlength={30} />
          <Field
            label="代办人身份证号码"
            value={form.idNumber}
            onInput={(idNumber) => setForm((current) => ({ ...current, idNumber }))}
            placeholder="18 位"
            type="idcard"
            maxlength={18}
          />
          <ActionButton block type="primary" loading={busy} onClick={() => void grant()}>
            授权代办
          </ActionButton>
        </View>
      )}

      {lists && (
        <>
          <View className="gh-card">
            <Text className="gh-card-title">我授权的</Text>
            {renderGrants(lists.given, 'given')}
          </View>
          <View className="gh-card">
            <Text className="gh-card-title">授权给我的</Text>
            {renderGrants(lists.received, 'received')}
          </View>
        </>
      )}
    </PageShell>
  );
}
