import { useCallback, useEffect, useState } from 'react';
import { Text, View } from '@tarojs/components';
import ActionButton from '../../components/ActionButton';
import PageShell from '../../components/PageShell';
import { api } from '../../services/api';
import { describeFailure } from '../../services/errors';
import { barsOf, countsOf, loadFigures } from '../../services/figures';
import type { DepartmentFigures, HallFigures } from '../../services/figures';
import './index.scss';

type Report = Awaited<ReturnType<typeof loadFigures>>;
const TONE_WORDS = { good: '好', fair: '中', poor: '待改进', none: '' };

function Place({ name, figures }: { name: string; figures: DepartmentFigures | HallFigures }) {
  return (
    <View className="figures-place" data-testid="figures-place">
      <Text className="figures-name">{name}</Text>
      {barsOf(figures).map((bar) => (
        <View key={bar.label} className="figures-bar">
          <View className="figures-bar-head">
            <Text className="figures-bar-label">{bar.label}</Text>
            <Text className="figures-bar-value">
              {bar.value}
              {TONE_WORDS[bar.tone] ? `（${TONE_WORDS[bar.tone]}）` : ''}
            </Text>
          </View>
          <View className="figures-track" aria-hidden="true">
            <View className={`figures-fill figures-fill--${bar.tone}`} style={{ width: `${Math.round((bar.share ?? 0) * 100)}%` }} />
          </View>
        </View>
      ))}
      {countsOf(figures).map((line) => (
        <Text key={line} className="figures-count">
          {line}
        </Text>
      ))}
    </View>
  );
}

export default function Figures() {
  const [report, setReport] = useState<Report | null>(null);
  const [view, setView] = useState<'departments' | 'halls'>('departments');
  const [failure, setFailure] = useState<{ text: string; retry: boolean } | null>(null);

  const load = useCallback(async () => {
    setFailure(null);
    try {
      setReport(await loadFigures(api));
    } catch (error) {
      setFailure(describeFailure(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <PageShell className="figures">
      <View className="gh-card">
        <Text className="gh-card-title">政务服务好差评公示</Text>
        <Text className="gh-muted">
          {report ? `统计期 ${report.from} 至 ${report.to}。` : '正在加载…'}满意率为评价 3 至 5 星（含默认好评）所占比例。
        </Text>
        <View className="figures-switch">
          <ActionButton size="small" type={view === 'departments' ? 'primary' : 'default'} aria-pressed={view === 'departments' ? 'true' : 'false'} onClick={() => setView('departments')}>
            按部门
          </ActionButton>
          <ActionButton size="small" type={view === 'halls' ? 'primary' : 'default'} aria-pressed={view === 'halls' ? 'true' : 'false'} onClick={() => setView('halls')}>
            按大厅
          </ActionButton>
        </View>
      </View>
      {failure && (
        <View className="gh-alert" role="alert">
          <Text>{failure.text}</Text>
          {failure.retry && (
            <View className="gh-actions">
              <ActionButton size="small" type="primary" onClick={() => void load()}>
                重试
              </ActionButton>
            </View>
          )}
        </View>
      )}
      {report && (
        <View className="gh-card">
          {view === 'departments'
            ? report.departments.map((item) => <Place key={item.department_id} name={item.department_name} figures={item} />)
            : report.halls.map((item) => <Place key={item.hall_id} name={item.hall_name} figures={item} />)}
        </View>
      )}
    </PageShell>
  );
}
