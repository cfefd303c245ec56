import { useCallback, useEffect, useState } from 'react';
import { Text, View } from '@tarojs/components';
import { Cell, SearchBar } from '@nutui/nutui-react-taro';
import ActionButton from '../../components/ActionButton';
import ElderSwitch from '../../components/ElderSwitch';
import PageShell from '../../components/PageShell';
import { useElderMode } from '../../hooks/useElderMode';
import platform from '../../platform';
import { api } from '../../services/api';
import { loadHome, searchMatters } from '../../services/catalog';
import type { MatterSummary, Theme } from '../../services/catalog';
import { describeFailure } from '../../services/errors';
import { ensureLogin, greeting } from '../../services/session';
import type { Citizen } from '../../services/session';
import './index.scss';

export default function Index() {
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const [themes, setThemes] = useState<Theme[]>([]);
  const [matters, setMatters] = useState<MatterSummary[]>([]);
  const [words, setWords] = useState('');
  const [results, setResults] = useState<MatterSummary[] | null>(null);
  const [failure, setFailure] = useState<{ text: string; retry: boolean } | null>(null);
  const [loading, setLoading] = useState(true);
  const [elder] = useElderMode();

  const load = useCallback(async () => {
    setLoading(true);
    setFailure(null);
    try {
      const [who, home] = await Promise.all([ensureLogin(api, platform), loadHome(api)]);
      setCitizen(who);
      setThemes(home.themes);
      setMatters(home.matters);
    } catch (error) {
      setFailure(describeFailure(error));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function search(value: string) {
    try {
      setResults(await searchMatters(api, value));
    } catch (error) {
      setFailure(describeFailure(error));
    }
  }

  const themesSection = (
    <View key="themes" className="home-section">
      <Text className="home-section-title">主题服务</Text>
      <View className="home-themes">
        {themes.map((theme) => (
          <View key={theme.id} className="home-theme">
            <Text>{theme.name}</Text>
          </View>
        ))}
      </View>
    </View>
  );
  const commonSection = (
    <View key="common" className="home-section" data-testid="home-common">
      <Text className="home-section-title">常办事项</Text>
      {matters.map((matter) => (
        <Cell key={matter.id} title={matter.name} description={matter.bookable ? '可预约' : '网上办理'} />
      ))}
    </View>
  );

  return (
    <PageShell className="home">
      <View className="home-header">
        <View className="home-header-row">
          <Text className="home-title">临江市掌上政务服务</Text>
          <ElderSwitch />
        </View>
        <Text className="home-who" data-testid="who">
          {citizen ? `${greeting(citizen)} · 已登录` : loading ? '正在登录…' : '未登录'}
        </Text>
      </View>
      <SearchBar
        className="home-search"
        placeholder="搜索事项，如 社保、户籍、公积金"
        value={words}
        onChange={(value: string) => setWords(value)}
        onSearch={(value: string) => void search(value)}
        onClear={() => setResults(null)}
        rightIn={
          <ActionButton size="small" type="primary" onClick={() => void search(words)}>
            搜索
          </ActionButton>
        }
      />
      {failure && (
        <View className="home-failure" role="alert">
          <Text>{failure.text}</Text>
          {failure.retry && (
            <ActionButton size="small" type="primary" onClick={() => void load()}>
              重试
            </ActionButton>
          )}
        </View>
      )}
      {results !== null && (
        <View className="home-section" aria-label="搜索结果">
          <Text className="home-section-title">搜索结果（{results.length}）</Text>
          {results.length === 0 ? (
            <Text className="home-empty">没有找到相关事项，换个词试试</Text>
          ) : (
            results.map((matter) => <Cell key={matter.id} title={matter.name} description={matter.code} />)
          )}
        </View>
      )}
      {/* Elder mode (MIIT 2021): the common services come first. */}
      {elder ? [commonSection, themesSection] : [themesSection, commonSection]}
    </PageShell>
  );
}
