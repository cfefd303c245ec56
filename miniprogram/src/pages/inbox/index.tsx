import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import PageShell from '../../components/PageShell';
import { Empty, FOCUSABLE, LinkButton, Notice, Section } from '../../components/cases/ui';
import { api } from '../../services/api';
import { shortTime } from '../../services/cases';
import { loadInbox, markRead, messageLink } from '../../services/inbox';
import type { Message } from '../../services/inbox';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';
import './index.scss';

export default function Inbox() {
  const [messages, setMessages] = useState<Message[]>([]);
  const [unread, setUnread] = useState(0);
  const { loading, failure, reload } = useCitizenLoad(async () => {
    const inbox = await loadInbox(api);
    setMessages(inbox.items);
    setUnread(inbox.unread);
  });

  async function open(message: Message) {
    if (!message.read) {
      try {
        await markRead(api, message.id);
        setMessages((now) => now.map((m) => (m.id === message.id ? { ...m, read: true } : m)));
        setUnread((n) => Math.max(0, n - 1));
      } catch {
        // marking read is a nicety: opening the case matters more
      }
    }
    const link = messageLink(message);
    if (link) Taro.navigateTo({ url: link });
  }

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">我的消息</Text>
        <Text className="cz-header-sub" data-testid="unread">
          {unread ? `${unread} 条未读` : '没有未读消息'}
        </Text>
      </View>
      <View className="cz-links">
        <LinkButton text="我的办件" onClick={() => Taro.navigateTo({ url: '/pages/cases/index' })} />
        <LinkButton text="我的咨询投诉" onClick={() => Taro.navigateTo({ url: '/pages-cases/feedback/index' })} />
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      <Section title="办理进度与通知">
        {loading && <Empty text="正在加载…" />}
        {!loading && messages.length === 0 && <Empty text="还没有消息。办件有进展时会在这里通知您。" />}
        {messages.map((message) => (
          <View
            key={message.id}
            className="cz-card"
            role="link" {...FOCUSABLE}
            onClick={() => void open(message)}
          >
            <View className="cz-card-head">
              <Text className="cz-card-title">{message.title}</Text>
              {!message.read && <Text className="cz-unread">未读</Text>}
            </View>
            <Text className="cz-card-meta">{message.body}</Text>
            <Text className="cz-step-meta">
              {shortTime(message.created_at)}
              {messageLink(message) ? ' · 点击查看' : ''}
            </Text>
          </View>
        ))}
      </Section>
    </PageShell>
  );
}
