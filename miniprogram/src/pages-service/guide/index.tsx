import { useCallback, useEffect, useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { FOCUSABLE } from '../../components/a11y';
import PageShell from '../../components/PageShell';
import { api } from '../../services/api';
import { loadHalls } from '../../services/booking';
import type { Hall } from '../../services/booking';
import { feeSummary, loadGuide, materialForm, yuan } from '../../services/catalog';
import type { Guide } from '../../services/catalog';
import { describeFailure } from '../../services/errors';
import '../service.scss';

export default function GuidePage() {
  const matterId = Number(useRouter().params.id);
  const [guide, setGuide] = useState<Guide | null>(null);
  const [halls, setHalls] = useState<Hall[]>([]);
  const [failure, setFailure] = useState<{ text: string; retry: boolean } | null>(null);

  const load = useCallback(async () => {
    setFailure(null);
    try {
      const [found, all] = await Promise.all([loadGuide(api, matterId), loadHalls(api)]);
      setGuide(found);
      setHalls(all.filter((hall) => found.hall_ids.includes(hall.id)));
      Taro.setNavigationBarTitle({ title: found.name });
    } catch (error) {
      setFailure(describeFailure(error));
    }
  }, [matterId]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!guide) {
    return (
      <PageShell className="svc">
        {failure ? (
          <View className="refusal" role="alert">
            <Text className="refusal-title">指南加载失败</Text>
            <Text>{failure.text}</Text>
            {failure.retry && (
              <View className="refusal-actions">
                <Button size="small" type="primary" onClick={() => void load()}>
                  重试
                </Button>
              </View>
            )}
          </View>
        ) : (
          <View className="svc-empty">正在加载办事指南…</View>
        )}
      </PageShell>
    );
  }

  return (
    <PageShell className="svc">
      <View className="svc-head" {...FOCUSABLE}>
        <Text className="svc-head-title">{guide.name}</Text>
        <Text className="svc-head-sub">
          {guide.department_name} · 事项编码 {guide.code}
        </Text>
      </View>

      <View className="svc-facts" aria-label="办理时限与收费">
        <View className="svc-fact">
          <Text className="svc-fact-value">{guide.promised_days === 0 ? '即办' : `${guide.promised_days} 个工作日`}</Text>
          <Text className="svc-fact-label">承诺办结时限</Text>
        </View>
        <View className="svc-fact">
          <Text className="svc-fact-value">{guide.legal_days === 0 ? '即办' : `${guide.legal_days} 个工作日`}</Text>
          <Text className="svc-fact-label">法定办结时限</Text>
        </View>
        <View className="svc-fact">
          <Text className="svc-fact-value">{guide.max_visits === 0 ? '不用跑' : `最多跑 ${guide.max_visits} 次`}</Text>
          <Text className="svc-fact-label">到现场次数</Text>
        </View>
        <View className="svc-fact">
          <Text className="svc-fact-value">{feeSummary(guide)}</Text>
          <Text className="svc-fact-label">收费</Text>
        </View>
      </View>


      <View className="svc-bar">
        {guide.bookable && (
          <Button
            type="primary"
            fill="outline"
            onClick={() => Taro.navigateTo({ url: `/pages-service/book/index?matter_id=${guide.id}` })}
          >
            预约办理
          </Button>
        )}
        <Button type="primary" onClick={() => Taro.navigateTo({ url: `/pages-cases/apply/index?matter_id=${guide.id}` })}>
          在线申请
        </Button>
      </View>
      {guide.conditions && (
        <View className="svc-card">
          <Text className="svc-card-title">办理条件</Text>
          <Text className="svc-text">{guide.conditions}</Text>
        </View>
      )}

      <View className="svc-card" aria-label="申请材料">
        <Text className="svc-card-title">申请材料（{guide.materials.length}）</Text>
        {guide.materials.map((material) => (
          <View key={material.id} className="svc-row" data-testid="material">
            <Text className="svc-row-name">{material.name}</Text>
            <View className="svc-tags">
              <Text className={`svc-tag ${material.required ? 'required' : 'grey'}`}>{material.required ? '必需' : '非必需'}</Text>
              <Text className="svc-tag">{materialForm(material)}</Text>
              {material.e_licence && <Text className="svc-tag licence">可用电子证照</Text>}
            </View>
            {material.notes && <Text className="svc-muted">{material.notes}</Text>}
          </View>
        ))}
      </View>

      <View className="svc-card">
        <Text className="svc-card-title">收费标准</Text>
        {guide.fees.length === 0 ? (
          <Text className="svc-text">本事项不收取任何费用。</Text>
        ) : (
          guide.fees.map((fee) => (
            <View key={fee.name} className="svc-row-line">
              <Text className="svc-text">{fee.name}</Text>
              <Text className="svc-row-name">{yuan(fee.amount_fen)}</Text>
            </View>
          ))
        )}
      </View>

      <View className="svc-card" aria-label="办理地点">
        <Text className="svc-card-title">办理地点</Text>
        {halls.length === 0 && <Text className="svc-text">本事项全程网上办理，无需到大厅。</Text>}
        {halls.map((hall) => (
          <View key={hall.id} className="svc-row">
            <Text className="svc-row-name">{hall.name}</Text>
            <Text className="svc-muted">{hall.address}</Text>
            <Text className="svc-muted">{hall.opening_hours}</Text>
            <View className="svc-row-line">
              <Text className="svc-muted">咨询电话 {hall.phone}</Text>
              <Button
                size="small"
                fill="outline"
                type="primary"
                onClick={() => Taro.navigateTo({ url: `/pages-service/queue/index?hall_id=${hall.id}&matter_id=${guide.id}` })}
              >
                到厅取号
              </Button>
            </View>
          </View>
        ))}
      </View>

      {guide.process && (
        <View className="svc-card">
          <Text className="svc-card-title">办理流程</Text>
          <Text className="svc-text">{guide.process}</Text>
        </View>
      )}
      {guide.legal_basis && (
        <View className="svc-card">
          <Text className="svc-card-title">设定依据</Text>
          <Text className="svc-text">{guide.legal_basis}</Text>
        </View>
      )}
      {guide.contact_phone && (
        <View className="svc-card">
          <Text className="svc-card-title">咨询电话</Text>
          <Text className="svc-text">{guide.contact_phone}</Text>
        </View>
      )}

    </PageShell>
  );
}
