import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert as Notice, Button, Pagination, Tag } from 'tdesign-react';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { apiErrorText } from '../session/errors';
import { alertLink, alertService } from './alerts';
import type { Alert } from './alerts';
import { useUnreadAlerts } from './UnreadAlerts';
import './alerts.css';
import '../window/controls.css';

const when = (iso: string) =>
  new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false, dateStyle: 'short', timeStyle: 'short' });

/** 消息提醒: the same alerts WeChat Work sends, for staff who do not have it; read one or all. */
export default function AlertsPage() {
  const service = useMemo(() => alertService(api), []);
  const { store, unread } = useUnreadAlerts();
  const [items, setItems] = useState<Alert[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const answer = await service.list(page, unreadOnly);
      setItems(answer.items);
      setTotal(answer.total);
      store?.set(answer.unread);
    } catch (failure) {
      setError(apiErrorText(failure));
    }
  }, [service, page, unreadOnly, store]);

  useEffect(() => {
    void load();
  }, [load]);

  const read = async (alert: Alert) => {
    try {
      await service.read(alert.id);
      setItems((list) => list.map((item) => (item.id === alert.id ? { ...item, read: true } : item)));
      store?.set(unread - 1);
      void store?.refresh();
    } catch (failure) {
      setError(apiErrorText(failure));
    }
  };

  const readAll = async () => {
    try {
      const answer = await service.readAll();
      store?.set(answer.unread);
      await load();
    } catch (failure) {
      setError(apiErrorText(failure));
    }
  };

  return (
    <section className="alerts">
      <div className="alerts-head">
        <h1>消息提醒</h1>
        <span data-testid="unread-count">{unread > 0 ? `${unread} 条未读` : '全部已读'}</span>
        <Button variant={unreadOnly ? 'base' : 'outline'} onClick={() => (setPage(1), setUnreadOnly(!unreadOnly))}>
          只看未读
        </Button>
        <Button variant="outline" onClick={() => void readAll()} disabled={unread === 0}>
          全部标为已读
        </Button>
      </div>
      <p className="hint">与企业微信推送的工作提醒相同（新办件、临近超期、已超期、差评、支付异常等），未安装企业微信也不会漏看。</p>
      <div role="alert">{error ? <Notice theme="error" message={error} /> : null}</div>
      {items.length === 0 ? <p className="alerts-empty">{unreadOnly ? '没有未读提醒。' : '暂无提醒。'}</p> : null}
      <ul className="alert-list">
        {items.map((alert) => {
          const link = alertLink(alert);
          return (
            <li key={alert.id} className={alert.read ? 'alert-item' : 'alert-item unread'} data-testid="alert-item">
              <div className="alert-title">
                {alert.read ? <Tag variant="light">已读</Tag> : <Tag theme="primary">未读</Tag>}
                <strong>{alert.title}</strong>
                <span className="hint">{when(alert.created_at)}</span>
              </div>
              <p className="alert-text">{alert.text}</p>
              <div className="alert-actions">
                {link ? (
                  <Link to={link} onClick={() => !alert.read && void read(alert)}>
                    去处理
                  </Link>
                ) : null}
                {!alert.read ? (
                  <Button size="small" variant="text" onClick={() => void read(alert)}>
                    标为已读
                  </Button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
      {total > 20 ? <Pagination current={page} pageSize={20} total={total} onCurrentChange={setPage} showPageSize={false} /> : null}
    </section>
  );
}
