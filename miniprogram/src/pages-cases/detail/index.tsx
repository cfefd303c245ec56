import { useState } from 'react';
import Taro, { useDidShow, useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import PageShell from '../../components/PageShell';
import MaterialList from '../../components/cases/MaterialList';
import { Empty, FOCUSABLE, LightBadge, LinkButton, Notice, Row, Section, StatusTag } from '../../components/cases/ui';
import platform from '../../platform';
import type { PayChannel } from '../../platform/types';
import { api } from '../../services/api';
import {
  BUTTON_TEXT,
  STATUS_TEXT,
  caseButtons,
  loadCase,
  loadMatter,
  myLicences,
  shortTime,
  submitCase,
  supplementItems,
  withdrawCase,
  yuan,
} from '../../services/cases';
import type { Case, CaseButton, Licence, Matter } from '../../services/cases';
import { describeFailure } from '../../services/errors';
import { CHANNEL_TEXT, payCase } from '../../services/payments';
import { SCORE_TEXT, ratingOfCase, ticketStatusText } from '../../services/ratings';
import type { Rating } from '../../services/ratings';
import { AFTER_PAYING, subscribe, templateIdsFor } from '../../services/subscribe';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';

/** Who made a move, as the timeline names them (the server's actor roles). */
const SUBMITTED_TEXT = '申请已提交，请留意办理进度通知';

const ACTOR_TEXT: Record<string, string> = {
  applicant: '申请人',
  citizen: '申请人',
  proxy: '代办人',
  clerk: '受理窗口',
  approver: '审批人员',
  dept_admin: '部门管理员',
  supervisor: '督查人员',
  admin: '管理员',
  staff: '工作人员',
  system: '系统',
};

export default function Detail() {
  const { params } = useRouter();
  const caseId = Number(params.id);
  const [item, setItem] = useState<Case | null | undefined>(undefined);
  const [matter, setMatter] = useState<Matter | null>(null);
  const [licences, setLicences] = useState<Licence[]>([]);
  const [rating, setRating] = useState<Rating | null>(null);
  const [channel, setChannel] = useState<PayChannel>(platform.payChannels()[0]);
  const [templates, setTemplates] = useState<string[]>([]);
  const [missing, setMissing] = useState<{ id: number; name: string }[]>([]);
  const [busy, setBusy] = useState<CaseButton | null>(null);
  const [notice, setNotice] = useState<{ tone: 'ok' | 'error' | 'info'; text: string } | null>(
    params.submitted ? { tone: 'ok', text: SUBMITTED_TEXT } : null,
  );

  async function refresh() {
    const found = Number.isInteger(caseId) && caseId > 0 ? await loadCase(api, caseId) : null;
    setItem(found);
    if (!found) return;
    // "submitted" greets the applicant arriving from the form; once staff moved the case it is old news.
    if (found.status !== 'submitted') setNotice((now) => (now?.text === SUBMITTED_TEXT ? null : now));
    if (found.rated) setRating(await ratingOfCase(api, found.id));
    if (found.status === 'supplement_required' && !matter) {
      setMatter(await loadMatter(api, found.matter_id));
      setLicences(await myLicences(api));
    }
  }

  const { failure, reload } = useCitizenLoad(async () => {
    await refresh();
    setTemplates(await templateIdsFor(api, platform, AFTER_PAYING));
  }, [caseId]);
  useDidShow(() => {
    if (item) void refresh().catch(() => undefined);
  });

  async function act(button: CaseButton) {
    if (!item) return;
    if (button === 'rate') {
      Taro.navigateTo({ url: `/pages-cases/rate/index?case_id=${item.id}` });
      return;
    }
    if (button === 'continue') {
      Taro.navigateTo({ url: `/pages-cases/apply/index?case_id=${item.id}` });
      return;
    }
    if (button === 'withdraw') {
      const { confirm } = await Taro.showModal({ title: '撤回申请', content: '撤回后本次申请结束，需要时可重新申请。确定撤回吗？', confirmText: '确定撤回', cancelText: '再想想' });
      if (!confirm) return;
    }
    setBusy(button);
    setNotice(null);
    try {
      if (button === 'withdraw') {
        setItem(await withdrawCase(api, item));
        setNotice({ tone: 'ok', text: '申请已撤回' });
      } else if (button === 'supplement') {
        const result = await submitCase(api, item);
        if ('missing' in result) {
          setMissing(result.missing);
          setNotice({ tone: 'error', text: `还缺少：${result.missing.map((m) => m.name).join('、')}，请上传后再提交` });
        } else {
          setMissing([]);
          setItem(result.case);
          setNotice({ tone: 'ok', text: '补正材料已提交，请等待工作人员审核' });
        }
      } else if (button === 'pay') {
        const result = await payCase(api, platform, item.id, channel, {}, () => subscribe(api, platform, templates));
        if (result.kind === 'paid') {
          setNotice({ tone: 'ok', text: `已支付 ${yuan(result.order.amount_fen)}（${CHANNEL_TEXT[result.order.channel]}）` });
          await refresh();
        } else if (result.kind === 'pending') {
          setNotice({ tone: 'info', text: '支付结果确认中，请稍后刷新查看；如已扣款无需重复支付' });
        } else if (result.kind === 'cancelled') {
          setNotice({ tone: 'info', text: '您已取消支付，可随时再次缴费' });
        } else {
          setNotice({ tone: 'error', text: result.reason });
        }
      }
    } catch (error) {
      setNotice({ tone: 'error', text: describeFailure(error).text });
    } finally {
      setBusy(null);
    }
  }

  if (item === null) {
    return (
      <PageShell className="cz-page">
        <View className="cz-header">
          <Text className="cz-header-title">办件详情</Text>
        </View>
        <Section>
          <Text className="cz-big-state cz-big-neutral" data-testid="not-found">
            未找到该办件
          </Text>
          <Text className="cz-card-meta">该办件不存在，或不是您本人（或您代办）的申请。窗口办理的办件可在“我的办件”中用受理编号关联。</Text>
          <LinkButton text="查看我的办件" onClick={() => Taro.redirectTo({ url: '/pages/cases/index' })} />
        </Section>
      </PageShell>
    );
  }

  const buttons = item ? caseButtons(item) : [];
  const items = item ? supplementItems(item) : [];
  const licenceTypes = Object.fromEntries((matter?.materials ?? []).map((m) => [m.id, m.licence_type]));
  const reasons = Object.fromEntries(items.filter((i) => i.materialId !== null).map((i) => [i.materialId as number, i.reason]));

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">{item ? item.matter_name : '办件详情'}</Text>
        {item && <Text className="cz-header-sub">{item.department_name}</Text>}
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      {notice && <Notice tone={notice.tone} text={notice.text} testId="case-notice" />}
      {item && (
        <>
          <Section title="办理情况" extra={<StatusTag status={item.status} />}>
            <Row label="受理编号" value={item.receipt_no ?? '受理后生成'} testId="receipt-no" />
            {item.light && <Row label="时限状态" value={<LightBadge light={item.light} />} />}
            <Row label="办结期限" value={item.deadline ? `${shortTime(item.deadline).slice(0, 10)}${item.clock_paused ? '（已暂停计时）' : ''}` : `受理后 ${item.promised_days} 个工作日`} testId="deadline" />
            <Row label="申请人" value={`${item.applicant_name}（${item.id_number_masked}）${item.filed_by_proxy ? ' · 代办' : ''}`} />
            {item.amount_fen > 0 && <Row label="费用" value={`${yuan(item.amount_fen)} · ${item.paid ? '已缴清' : '待缴费'}`} testId="fee" />}
            {item.delivery && <Row label="领取方式" value={Object.values(item.delivery).filter(Boolean).join(' · ')} />}
          </Section>
          {item.status === 'supplement_required' && (
            <Section title="需要补正的材料">
              {items.filter((i) => i.materialId === null).map((i, index) => (
                <Text key={index} className="cz-field-error">
                  · {i.name}：{i.reason}
                </Text>
              ))}
              <MaterialList
                item={item}
                only={items.map((i) => i.materialId).filter((id): id is number => id !== null)}
                licenceTypes={licenceTypes}
                licences={licences}
                missing={missing.map((m) => m.id)}
                reasons={reasons}
                onChanged={refresh}
              />
            </Section>
          )}
          {item.can_pay && (
            <Section title={`缴费 ${yuan(item.amount_fen)}`}>
              <View className="cz-chips" role="radiogroup" aria-label="支付方式">
                {platform.payChannels().map((option) => (
                  <View key={option} className={`cz-chip${channel === option ? ' cz-chip-on' : ''}`} role="radio" {...FOCUSABLE} aria-checked={channel === option} onClick={() => setChannel(option)}>
                    {CHANNEL_TEXT[option]}
                  </View>
                ))}
              </View>
            </Section>
          )}
          {buttons.length > 0 && (
            <View className="cz-actions">
              {buttons.map((button) => (
                <Button
                  key={button}
                  type={button === 'withdraw' ? 'default' : 'primary'}
                  loading={busy === button}
                  onClick={() => void act(button)}
                >
                  {button === 'pay' && item.can_pay ? `${BUTTON_TEXT.pay} ${yuan(item.amount_fen)}` : BUTTON_TEXT[button]}
                </Button>
              ))}
            </View>
          )}
          {rating && (
            <Section title="我的评价">
              <Row label="评价" value={`${SCORE_TEXT[rating.score]}${rating.comment ? `：${rating.comment}` : ''}`} testId="my-rating" />
              {rating.ticket && (
                <>
                  <Row label="整改工单" value={`${ticketStatusText(rating.ticket.status, rating.ticket.kind)}`} testId="rectification" />
                  {rating.ticket.due_at && <Row label="回访期限" value={shortTime(rating.ticket.due_at)} />}
                  {rating.ticket.reply && <Row label="整改情况" value={rating.ticket.reply} />}
                  <LinkButton text="查看整改进度" onClick={() => Taro.navigateTo({ url: `/pages-cases/rate/index?case_id=${item.id}` })} />
                </>
              )}
            </Section>
          )}
          <Section title="办理进度">
            {item.timeline.length === 0 && <Empty text="暂无进度" />}
            <View className="cz-timeline" data-testid="timeline">
              {[...item.timeline].reverse().map((entry, index) => (
                <View key={index} className="cz-step">
                  <Text className="cz-step-title">{STATUS_TEXT[entry.to as Case['status']] ?? entry.to}</Text>
                  <Text className="cz-step-meta">
                    {shortTime(entry.at)} · {ACTOR_TEXT[entry.actor] ?? entry.actor}
                    {entry.note ? ` · ${entry.note}` : ''}
                  </Text>
                </View>
              ))}
            </View>
          </Section>
          <View className="cz-links">
            <LinkButton text="我的办件" onClick={() => Taro.navigateTo({ url: '/pages/cases/index' })} />
            <LinkButton text="就此办件咨询或投诉" onClick={() => Taro.navigateTo({ url: `/pages-cases/feedback/index?case_id=${item.id}` })} />
          </View>
        </>
      )}
    </PageShell>
  );
}
