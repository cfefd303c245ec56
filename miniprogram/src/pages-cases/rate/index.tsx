import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import PageShell from '../../components/PageShell';
import { FOCUSABLE, Field, LinkButton, Notice, Row, Section } from '../../components/cases/ui';
import { api } from '../../services/api';
import { loadCase, shortTime } from '../../services/cases';
import type { Case } from '../../services/cases';
import { describeFailure } from '../../services/errors';
import { BAD_TAGS, SCORE_TEXT, checkRating, rateCase, rateFix, ratingOfCase, ticketStatusText } from '../../services/ratings';
import type { Rating } from '../../services/ratings';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';

function Scores({ score, onChange, label }: { score: number; onChange: (score: number) => void; label: string }) {
  return (
    <View className="cz-chips" role="radiogroup" aria-label={label}>
      {[5, 4, 3, 2, 1].map((level) => (
        <View key={level} className={`cz-chip${score === level ? ' cz-chip-on' : ''}`} role="radio" {...FOCUSABLE} aria-checked={score === level} onClick={() => onChange(level)}>
          {SCORE_TEXT[level]}
        </View>
      ))}
    </View>
  );
}

export default function Rate() {
  const { params } = useRouter();
  const caseId = Number(params.case_id);
  const [item, setItem] = useState<Case | null | undefined>(undefined);
  const [rating, setRating] = useState<Rating | null>(null);
  const [score, setScore] = useState(0);
  const [tags, setTags] = useState<string[]>([]);
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const { failure, reload } = useCitizenLoad(async () => {
    const found = await loadCase(api, caseId);
    setItem(found);
    if (found?.rated) setRating(await ratingOfCase(api, caseId));
  }, [caseId]);

  async function submit() {
    const problem = checkRating(score, comment);
    if (problem) return setError(problem);
    setBusy(true);
    setError('');
    try {
      if (rating) {
        setRating(await rateFix(api, rating.id, score, comment));
        setDone('感谢您对整改结果的评价');
      } else {
        const sent = await rateCase(api, caseId, score, comment, score <= 2 ? tags : []);
        setRating(sent);
        setDone(sent.ticket ? '感谢您的评价。我们已生成整改工单，将在期限内回访并整改，进度可在此查看。' : '感谢您的评价');
      }
      setScore(0);
      setComment('');
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  const ticket = rating?.ticket ?? null;
  const ratingFix = Boolean(ticket && ticket.status === 'fixed' && ticket.fix_score === null);
  const showForm = (item?.can_rate && !rating) || ratingFix;

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">{item ? item.matter_name : '评价办件'}</Text>
        <Text className="cz-header-sub">您的评价会计入部门的“好差评”，差评将回访整改</Text>
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      {item === null && <Notice text="未找到该办件" />}
      {done && <Notice tone="ok" text={done} testId="rate-done" />}
      {rating && (
        <Section title="我的评价">
          <Row label="满意程度" value={SCORE_TEXT[rating.score]} testId="my-score" />
          {rating.comment && <Row label="原因" value={rating.comment} />}
          <Row label="评价时间" value={shortTime(rating.rated_at)} />
        </Section>
      )}
      {ticket && (
        <Section title="整改工单" label="整改工单">
          <Row label="工单编号" value={`#${ticket.id}`} />
          <Row label="状态" value={ticketStatusText(ticket.status, ticket.kind)} testId="ticket-status" />
          {ticket.callback_due_at && <Row label="回访期限" value={shortTime(ticket.callback_due_at)} />}
          {ticket.called_back_at && <Row label="已回访" value={shortTime(ticket.called_back_at)} />}
          {ticket.fix_due_at && <Row label="整改期限" value={shortTime(ticket.fix_due_at)} />}
          {ticket.reply && <Row label="整改情况" value={ticket.reply} />}
          {ticket.fix_score !== null && <Row label="我对整改的评价" value={SCORE_TEXT[ticket.fix_score]} />}
        </Section>
      )}
      {item && !item.can_rate && !rating && <Notice tone="info" text="办件办结后才能评价；代办人不能替申请人评价" />}
      {showForm && (
        <Section title={ratingFix ? '评价整改结果' : '您对本次办理满意吗？'}>
          <Scores score={score} onChange={setScore} label="满意程度" />
          {!ratingFix && score > 0 && score <= 2 && (
            <View className="cz-chips" aria-label="不满意的原因">
              {BAD_TAGS.map((tag) => (
                <View
                  key={tag}
                  className={`cz-chip${tags.includes(tag) ? ' cz-chip-on' : ''}`}
                  role="checkbox" {...FOCUSABLE}
                  aria-checked={tags.includes(tag)}
                  onClick={() => setTags((now) => (now.includes(tag) ? now.filter((t) => t !== tag) : [...now, tag]))}
                >
                  {tag}
                </View>
              ))}
            </View>
          )}
          <Field label={score > 0 && score <= 2 ? '请写明不满意的原因（必填）' : '说说您的感受（选填）'}>
            <Textarea className="cz-textarea" value={comment} maxlength={500} placeholder="请输入评价内容" onInput={(e) => setComment(e.detail.value)} />
          </Field>
          {error && <Notice text={error} />}
          <Button type="primary" block loading={busy} onClick={() => void submit()}>
            提交评价
          </Button>
        </Section>
      )}
      <View className="cz-links">
        <LinkButton text="返回办件详情" onClick={() => Taro.redirectTo({ url: `/pages-cases/detail/index?id=${caseId}` })} />
      </View>
    </PageShell>
  );
}
