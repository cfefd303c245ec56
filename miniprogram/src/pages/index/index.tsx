import { useCallback, useEffect, useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Cell, SearchBar } from '@nutui/nutui-react-taro';
import ActionButton from '../../components/ActionButton';
import ElderSwitch from '../../components/ElderSwitch';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import { useElderMode } from '../../hooks/useElderMode';
import platform from '../../platform';
import { api } from '../../services/api';
import { myAppointments } from '../../services/booking';
import { loadHome, matterNames, mattersOfTheme, searchMatters } from '../../services/catalog';
import type { MatterSummary, Theme } from '../../services/catalog';
import { describeFailure } from '../../services/errors';
import { ensureLogin, greeting } from '../../services/session';
import type { Citizen } from '../../services/session';
import { buildTodos, myCases } from '../../services/todos';
import type { Todo } from '../../services/todos';
import './index.scss';

function openGuide(matter: MatterSummary) {
  void Taro.navigateTo({ url: `/pages-service/guide/index?id=${matter.id}` });
}

function MatterCell({ matter }: { matter: MatterSummary }) {
  return (
    <Cell
      className="home-matter"
      title={matter.name}
      description={matter.bookable ? '可预约到厅 · 可网上申请' : '网上办理'}
      extra="办事指南"
      onClick={() => openGuide(matter)}
    />
  );
}

const ENTRIES = [
  { label: '我的预约', url: '/pages-service/appointments/index' },
  { label: '排队取号', url: '/pages-service/queue/index' },
];

export default function Index() {
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const [themes, setThemes] = useState<Theme[]>([]);
  const [matters, setMatters] = useState<MatterSummary[]>([]);
  const [words, setWords] = useState('');
  const [results, setResults] = useState<MatterSummary[] | null>(null);
  const [theme, setTheme] = useState<Theme | null>(null);
  const [themeMatters, setThemeMatters] = useState<MatterSummary[]>([]);
  const [todos, setTodos] = useState<Todo[] | null>(null);
  const [failure, setFailure] = useState<{ text: string; retry: boolean } | null>(null);
  const [loading, setLoading] = useState(true);
  const [elder] = useElderMode();

  const loadTodos = useCallback(async () => {
    try {
      const [cases, appointments] = await Promise.all([myCases(api), myAppointments(api)]);
      const names = await matterNames(api, appointments.map((a) => a.matter_id));
      setTodos(buildTodos(cases, appointments, names, new Date()));
    } catch {
      setTodos(null); // the to-dos are a convenience: the rest of the page works without them
    }
  }, []);

  const load = useCallback(async () => {
    setLoading(true);
    setFailure(null);
    try {
      const [who, home] = await Promise.all([ensureLogin(api, platform), loadHome(api)]);
      setCitizen(who);
      setThemes(home.themes);
      setMatters(home.matters);
      void loadTodos();
    } catch (error) {
      setFailure(describeFailure(error));
    } finally {
      setLoading(false);
    }
  }, [loadTodos]);

  useEffect(() => {
    void load();
  }, [load]);

  // Back from booking or cancelling: the to-dos follow.
  useDidShow(() => {
    if (citizen) void loadTodos();
  });

  async function search(value: string) {
    try {
      setResults(await searchMatters(api, value));
    } catch (error) {
      setFailure(describeFailure(error));
    }
  }

  async function pickTheme(picked: Theme) {
    if (theme?.id === picked.id) {
      setTheme(null);
      return;
    }
    setTheme(picked);
    try {
      setThemeMatters(await mattersOfTheme(api, picked.code));
    } catch (error) {
      setFailure(describeFailure(error));
    }
  }

  const themesSection = (
        <View key="themes" className="home-section">
          <Text className="home-section-title">主题服务</Text>
          <View className="home-themes">
            {themes.map((item) => (
              <View
                key={item.id}
                role="button"
                {...FOCUSABLE}
                aria-pressed={theme?.id === item.id}
                className={`home-theme ${theme?.id === item.id ? 'on' : ''}`}
                onClick={() => void pickTheme(item)}
              >
                <Text>{item.name}</Text>
              </View>
            ))}
          </View>
          {theme && (
            <View className="home-theme-matters" aria-label={`${theme.name}事项`}>
              <Text className="home-section-title">{theme.name}（{themeMatters.length}）</Text>
              {themeMatters.map((matter) => (
                <MatterCell key={matter.id} matter={matter} />
              ))}
            </View>
          )}
        </View>
  );
  const commonSection = (
        <View key="common" className="home-section" data-testid="home-common">
          <Text className="home-section-title">常办事项</Text>
          {matters.map((matter) => (
            <MatterCell key={matter.id} matter={matter} />
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
            results.map((matter) => <MatterCell key={matter.id} matter={matter} />)
          )}
        </View>
      )}
      <View className="home-entries">
        {ENTRIES.map((entry) => (
          <View key={entry.url} className="home-entry" role="link" {...FOCUSABLE} onClick={() => void Taro.navigateTo({ url: entry.url })}>
            <Text>{entry.label}</Text>
          </View>
        ))}
      </View>
      {todos !== null && (
        <View className="home-section" aria-label="我的待办">
          <Text className="home-section-title">我的待办（{todos.length}）</Text>
          {todos.length === 0 ? (
            <Text className="home-empty">暂无需要您处理的事项</Text>
          ) : (
            todos.map((todo) => (
              <Cell
                key={todo.key}
                className="home-todo"
                title={todo.title}
                description={todo.detail}
                extra="去处理"
                onClick={() => void Taro.navigateTo({ url: todo.url })}
              />
            ))
          )}
        </View>
      )}
      {/* Elder mode (MIIT 2021): the common services come first. */}
      {elder ? [commonSection, themesSection] : [themesSection, commonSection]}
    </PageShell>
  );
}
