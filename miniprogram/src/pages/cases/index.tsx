import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import PageShell from '../../components/PageShell';
import { Empty, FOCUSABLE, LightBadge, LinkButton, Notice, Section, StatusTag } from '../../components/cases/ui';
import { api } from '../../services/api';
import { listCases, shortTime, yuan } from '../../services/cases';
import type { CaseSummary } from '../../services/cases';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';
import './index.scss';

export default function MyCases() {
  const [cases, setCases] = useState<CaseSummary[]>([]);
  const { loading, failure, reload } = useCitizenLoad(async () => setCases(await listCases(api)));
  useDidShow(() => {
    if (!loading) void reload();
  });

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">我的办件</Text>
        <Text className="cz-header-sub">在线申请和关联的窗口办件，红黄绿灯提示办理时限</Text>
      </View>
      <View className="cz-links">
        <LinkButton text="关联窗口办件" onClick={() => Taro.navigateTo({ url: '/pages-cases/link/index' })} />
        <LinkButton text="我的消息" onClick={() => Taro.navigateTo({ url: '/pages/inbox/index' })} />
        <LinkButton text="咨询投诉" onClick={() => Taro.navigateTo({ url: '/pages-cases/feedback/index' })} />
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      <Section title={`办件（${cases.length}）`}>
        {loading && <Empty text="正在加载…" />}
        {!loading && cases.length === 0 && <Empty text="还没有办件。在首页找到事项即可在线申请。" />}
        {cases.map((item) => (
          <View
            key={item.id}
            className="cz-card"
            role="link" {...FOCUSABLE}
            data-testid={`case-${item.id}`}
            onClick={() => Taro.navigateTo({ url: `/pages-cases/detail/index?id=${item.id}` })}
          >
            <View className="cz-card-head">
              <Text className="cz-card-title">{item.matter_name}</Text>
              <StatusTag status={item.status} />
            </View>
            <Text className="cz-card-meta">
              {item.receipt_no ? `受理编号 ${item.receipt_no}` : `创建于 ${shortTime(item.created_at)}`}
              {item.deadline ? ` · 期限 ${shortTime(item.deadline).slice(0, 10)}` : ''}
            </Text>
            <LightBadge light={item.light} />
            {(item.can_pay || item.can_rate || item.status === 'supplement_required') && (
              <Text className="cz-case-todo">
                {[item.status === 'supplement_required' && '待补正材料', item.can_pay && `待缴费 ${yuan(item.amount_fen)}`, item.can_rate && '待评价']
                  .filter(Boolean)
                  .join(' · ')}
              </Text>
            )}
          </View>
        ))}
      </Section>
    </PageShell>
  );
}
