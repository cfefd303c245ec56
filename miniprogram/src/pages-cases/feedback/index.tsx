import { useState } from 'react';
import Taro, { useDidShow, useRouter } from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import PageShell from '../../components/PageShell';
import { Empty, Field, Notice, Section, FOCUSABLE } from '../../components/cases/ui';
import { api } from '../../services/api';
import { shortTime } from '../../services/cases';
import { describeFailure } from '../../services/errors';
import { KIND_TEXT, checkFeedback, myFeedback, sendFeedback } from '../../services/feedback';
import type { FeedbackKind } from '../../services/feedback';
import { ticketStatusText } from '../../services/ratings';
import type { Ticket } from '../../services/ratings';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';

export default function Feedback() {
  const { params } = useRouter();
  const caseId = params.case_id ? Number(params.case_id) : null;
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [kind, setKind] = useState<FeedbackKind>('consult');
  const [content, setContent] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const { loading, failure, reload } = useCitizenLoad(async () => setTickets(await myFeedback(api)));
  useDidShow(() => {
    if (!loading) void reload();
  });

  async function submit() {
    const problem = checkFeedback(kind, content);
    if (problem) return setError(problem);
    setBusy(true);
    setError('');
    try {
      const ticket = await sendFeedback(api, kind, content, caseId);
      setTickets((now) => [ticket, ...now]);
      setContent('');
      setDone(`已提交${KIND_TEXT[kind]}（工单 #${ticket.id}），答复后会通知您`);
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">咨询 · 投诉 · 建议</Text>
        <Text className="cz-header-sub">{caseId ? `关于办件 #${caseId}` : '部门在期限内答复，您确认后结束'}</Text>
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      <Section title="我要反映">
        <View className="cz-chips" role="radiogroup" aria-label="类型">
          {(Object.keys(KIND_TEXT) as FeedbackKind[]).map((option) => (
            <View key={option} className={`cz-chip${kind === option ? ' cz-chip-on' : ''}`} role="radio" {...FOCUSABLE} aria-checked={kind === option} onClick={() => setKind(option)}>
              {KIND_TEXT[option]}
            </View>
          ))}
        </View>
        <Field label="内容">
          <Textarea className="cz-textarea" value={content} maxlength={1000} placeholder="请写下您要咨询、投诉或建议的内容" onInput={(e) => setContent(e.detail.value)} />
        </Field>
        {error && <Notice text={error} />}
        {done && <Notice tone="ok" text={done} />}
        <Button type="primary" block loading={busy} onClick={() => void submit()}>
          提交
        </Button>
      </Section>
      <Section title="我的反映">
        {!loading && tickets.length === 0 && <Empty text="还没有提交过咨询、投诉或建议" />}
        {tickets.map((ticket) => (
          <View key={ticket.id} className="cz-card" role="link" {...FOCUSABLE} onClick={() => Taro.navigateTo({ url: `/pages-cases/feedback/detail/index?id=${ticket.id}` })}>
            <View className="cz-card-head">
              <Text className="cz-card-title">
                {ticket.kind_name} #{ticket.id}
              </Text>
              <Text className="cz-status">{ticketStatusText(ticket.status)}</Text>
            </View>
            <Text className="cz-card-meta">{ticket.content}</Text>
            <Text className="cz-step-meta">{shortTime(ticket.created_at)}</Text>
          </View>
        ))}
      </Section>
    </PageShell>
  );
}
