import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import { ApiError } from '@govhall/api-client';
import PageShell from '../../../components/PageShell';
import { Field, LinkButton, Notice, Row, Section } from '../../../components/cases/ui';
import { api } from '../../../services/api';
import { shortTime } from '../../../services/cases';
import { describeFailure } from '../../../services/errors';
import { confirmReply, feedbackOf, reopenTicket } from '../../../services/feedback';
import { ticketStatusText } from '../../../services/ratings';
import type { Ticket } from '../../../services/ratings';
import { useCitizenLoad } from '../../../hooks/useCitizenLoad';

export default function FeedbackDetail() {
  const { params } = useRouter();
  const ticketId = Number(params.id);
  const [ticket, setTicket] = useState<Ticket | null | undefined>(undefined);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const { failure, reload } = useCitizenLoad(async () => {
    try {
      setTicket(await feedbackOf(api, ticketId));
    } catch (failed) {
      if (failed instanceof ApiError && failed.status === 404) setTicket(null);
      else throw failed;
    }
  }, [ticketId]);

  async function act(kind: 'confirm' | 'reopen') {
    if (!ticket) return;
    if (kind === 'reopen' && !reason.trim()) return setError('请写明还有什么没有解决');
    setBusy(true);
    setError('');
    try {
      setTicket(kind === 'confirm' ? await confirmReply(api, ticket) : await reopenTicket(api, ticket, reason));
      setReason('');
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">{ticket ? `${ticket.kind_name} #${ticket.id}` : '反映详情'}</Text>
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      {ticket === null && <Notice text="未找到该工单" />}
      {ticket && (
        <>
          <Section title="我的反映">
            <Text className="cz-card-meta">{ticket.content}</Text>
            <Row label="状态" value={ticketStatusText(ticket.status)} testId="ticket-status" />
            <Row label="提交时间" value={shortTime(ticket.created_at)} />
            {ticket.due_at && <Row label="答复期限" value={shortTime(ticket.due_at)} />}
          </Section>
          <Section title="部门答复">
            <Text className="cz-card-meta">{ticket.reply || '尚未答复，部门会在期限内答复您'}</Text>
          </Section>
          {ticket.allowed_actions.includes('confirm') || ticket.allowed_actions.includes('reopen') ? (
            <Section title="问题解决了吗？">
              {ticket.allowed_actions.includes('confirm') && (
                <Button type="primary" block loading={busy} onClick={() => void act('confirm')}>
                  已解决，确认答复
                </Button>
              )}
              {ticket.allowed_actions.includes('reopen') && (
                <>
                  <Field label="还没解决的地方">
                    <Textarea className="cz-textarea" value={reason} maxlength={500} placeholder="请写明还有什么没有解决" onInput={(e) => setReason(e.detail.value)} />
                  </Field>
                  <Button block loading={busy} onClick={() => void act('reopen')}>
                    未解决，重新办理
                  </Button>
                </>
              )}
            </Section>
          ) : null}
          {error && <Notice text={error} />}
        </>
      )}
      <View className="cz-links">
        <LinkButton text="我的咨询投诉" onClick={() => Taro.redirectTo({ url: '/pages-cases/feedback/index' })} />
      </View>
    </PageShell>
  );
}
