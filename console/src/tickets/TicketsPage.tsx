import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Select, Table, Tag, Textarea } from 'tdesign-react';
import { api } from '../api';
import {
  LIGHT_NAMES,
  STATUS_NAMES,
  TICKET_ACTIONS,
  actionsOf,
  assigneeLabel,
  entryText,
  lightOf,
  mayAssign,
  owedStep,
  ticketErrorText,
  ticketService,
} from './tickets';
import type { Assignee, Light, Ticket, TicketAction, TicketFilter, TicketService } from './tickets';
import { useTickets } from './useTickets';
import './tickets.css';
import '../window/controls.css';

const LIGHT_THEME: Record<Light, 'success' | 'warning' | 'danger' | 'default'> = {
  green: 'success',
  yellow: 'warning',
  red: 'danger',
  none: 'default',
};

const when = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false, dateStyle: 'short', timeStyle: 'short' }) : '—';

function LightTag({ ticket }: { ticket: Ticket }) {
  const light = lightOf(ticket);
  return (
    <Tag theme={LIGHT_THEME[light]} variant="light">
      {LIGHT_NAMES[light]}
    </Tag>
  );
}

function ActionForm({ action, busy, onSubmit }: { action: TicketAction; busy: boolean; onSubmit: (note: string) => Promise<boolean> }) {
  const [note, setNote] = useState('');
  const spec = TICKET_ACTIONS[action];
  const id = `ticket-${action}`;
  return (
    <form
      className="ticket-action"
      onSubmit={(event) => {
        event.preventDefault();
        void onSubmit(note).then((ok) => ok && setNote(''));
      }}
    >
      <label htmlFor={id}>{spec.field}</label>
      <Textarea id={id} value={note} onChange={(value) => setNote(String(value))} placeholder={spec.placeholder} maxlength={1000} autosize={{ minRows: 3 }} />
      <Button type="submit" theme={action === 'close' ? 'danger' : 'primary'} variant={action === 'close' ? 'outline' : 'base'} disabled={busy || !note.trim()}>
        {spec.label}
      </Button>
    </form>
  );
}

/** 指派承办人: the department's staff to choose from, loaded when the form shows. */
function AssignForm({
  ticket,
  service,
  busy,
  onAssign,
}: {
  ticket: Ticket;
  service: TicketService;
  busy: boolean;
  onAssign: (staffId: number, name: string) => Promise<boolean>;
}) {
  const [people, setPeople] = useState<Assignee[]>([]);
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    service
      .assignees(ticket)
      .then((found) => live && setPeople(found))
      .catch((failure) => live && setError(ticketErrorText(failure)));
    return () => {
      live = false;
    };
  }, [service, ticket]);
  const person = people.find((someone) => someone.id === chosen);
  return (
    <form
      className="ticket-action ticket-assign"
      aria-label="指派承办人"
      onSubmit={(event) => {
        event.preventDefault();
        if (person) void onAssign(person.id, person.name).then((ok) => ok && setChosen(undefined));
      }}
    >
      <span id="assignee-label">指派承办人（本部门工作人员）</span>
      {error ? <Alert theme="error" message={error} /> : null}
      <Select
        aria-labelledby="assignee-label"
        value={chosen}
        placeholder={people.length ? '请选择承办人' : '正在载入本部门人员…'}
        style={{ width: 320 }}
        options={people.map((someone) => ({ label: assigneeLabel(someone), value: someone.id }))}
        onChange={(value) => setChosen(value ? Number(value) : undefined)}
      />
      <Button type="submit" theme="primary" disabled={busy || !person}>
        指派
      </Button>
    </form>
  );
}

function TicketDetail({
  ticket,
  busy,
  act,
  assign,
  service,
  close,
}: {
  ticket: Ticket;
  busy: boolean;
  act: (a: TicketAction, note: string) => Promise<boolean>;
  assign: (staffId: number, name: string) => Promise<boolean>;
  service: TicketService;
  close: () => void;
}) {
  const step = owedStep(ticket);
  const actions = actionsOf(ticket);
  return (
    <section className="ticket-detail" aria-labelledby="ticket-detail-title">
      <div className="panel-head">
        <h2 id="ticket-detail-title">
          {ticket.kind_name} #{ticket.id} {ticket.escalated ? <Tag theme="danger">已升级督办</Tag> : null}
        </h2>
        <Button variant="text" onClick={close}>
          返回列表
        </Button>
      </div>
      <dl className="profile">
        <dt>状态</dt>
        <dd>
          {STATUS_NAMES[ticket.status]} <LightTag ticket={ticket} />
        </dd>
        <dt>承办人</dt>
        <dd data-testid="ticket-assignee">{ticket.assignee_name ?? '未指派（本部门均可办理）'}</dd>
        <dt>群众诉求</dt>
        <dd className="ticket-content">{ticket.content}</dd>
        <dt>当前时限</dt>
        <dd>{step ? `${step.name}截止 ${when(step.due)}` : '无'}</dd>
        <dt>已答复</dt>
        <dd>{ticket.reply || '—'}</dd>
        {ticket.reopen_count ? (
          <>
            <dt>重开次数</dt>
            <dd>{ticket.reopen_count}（群众认为未解决）</dd>
          </>
        ) : null}
      </dl>
      {mayAssign(ticket) ? <AssignForm ticket={ticket} service={service} busy={busy} onAssign={assign} /> : null}
      {actions.length ? (
        actions.map((action) => <ActionForm key={action} action={action} busy={busy} onSubmit={(note) => act(action, note)} />)
      ) : mayAssign(ticket) ? null : (
        <p className="hint">当前没有您可办理的操作（等待群众确认或评价，或已关闭）。</p>
      )}
      <h3>处理记录</h3>
      <ol className="ticket-log">
        {(ticket.entries ?? []).map((entry, index) => (
          <li key={index}>
            <span className="hint">{when(entry.at)}</span> {entryText(entry)}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** 工单与整改: consultations, complaints, suggestions and rectifications of bad ratings, with lights and actions. */
export default function TicketsPage() {
  const service = useMemo(() => ticketService(api), []);
  const desk = useTickets(service);
  const set = (change: Partial<TicketFilter>) => desk.setFilter({ ...desk.filter, ...change, page: change.page ?? 1 });

  return (
    <section className="tickets">
      <h1>工单与整改</h1>
      <div role="alert">{desk.error ? <Alert theme="error" message={desk.error} className="desk-notice" /> : null}</div>
      <div role="status">{desk.done ? <Alert theme="success" message={desk.done} className="desk-notice" /> : null}</div>
      {desk.opened ? (
        <TicketDetail
          ticket={desk.opened}
          busy={desk.busy}
          act={desk.act}
          assign={desk.assign}
          service={service}
          close={() => desk.setOpened(null)}
        />
      ) : (
        <>
          <div className="ticket-filters">
            <label className="field">
              <span id="kind-label">类型</span>
              <Select
                aria-labelledby="kind-label"
                clearable
                value={desk.filter.kind}
                placeholder="全部类型"
                style={{ width: 160 }}
                options={[
                  { label: '咨询', value: 'consult' },
                  { label: '投诉', value: 'complaint' },
                  { label: '建议', value: 'suggestion' },
                  { label: '差评整改', value: 'rectification' },
                ]}
                onChange={(value) => set({ kind: (value || undefined) as TicketFilter['kind'] })}
              />
            </label>
            <label className="field">
              <span id="status-label">状态</span>
              <Select
                aria-labelledby="status-label"
                clearable
                value={desk.filter.status}
                placeholder="全部状态"
                style={{ width: 160 }}
                options={Object.entries(STATUS_NAMES).map(([value, label]) => ({ value, label }))}
                onChange={(value) => set({ status: (value || undefined) as TicketFilter['status'] })}
              />
            </label>
            <Button variant={desk.filter.overdue ? 'base' : 'outline'} theme="danger" onClick={() => set({ overdue: desk.filter.overdue ? undefined : true })}>
              只看超期
            </Button>
            <Button variant={desk.filter.escalated ? 'base' : 'outline'} onClick={() => set({ escalated: desk.filter.escalated ? undefined : true })}>
              只看升级督办
            </Button>
          </div>
          <Table<Ticket>
            rowKey="id"
            data={desk.items}
            empty="没有符合条件的工单"
            onRowClick={({ row }) => void desk.open(row.id)}
            pagination={{
              current: desk.filter.page ?? 1,
              pageSize: 20,
              total: desk.total,
              showPageSize: false,
              onCurrentChange: (page: number) => set({ page }),
            }}
            columns={[
              { colKey: 'id', title: '编号', width: 80 },
              {
                colKey: 'kind_name',
                title: '类型',
                width: 130,
                cell: ({ row }) => (
                  <>
                    {row.kind_name} {row.escalated ? <Tag theme="danger" size="small">升级</Tag> : null}
                  </>
                ),
              },
              {
                colKey: 'content',
                title: '内容',
                ellipsis: true,
                cell: ({ row }) => (
                  <button type="button" className="link-button" onClick={() => void desk.open(row.id)}>
                    {row.content.length > 40 ? `${row.content.slice(0, 40)}…` : row.content}
                  </button>
                ),
              },
              { colKey: 'status', title: '状态', width: 90, cell: ({ row }) => STATUS_NAMES[row.status] },
              { colKey: 'assignee_name', title: '承办人', width: 110, cell: ({ row }) => row.assignee_name ?? '—' },
              { colKey: 'light', title: '时限', width: 100, cell: ({ row }) => <LightTag ticket={row} /> },
              {
                colKey: 'due',
                title: '截止',
                width: 190,
                cell: ({ row }) => {
                  const step = owedStep(row);
                  return step ? `${step.name} ${when(step.due)}` : '—';
                },
              },
            ]}
          />
        </>
      )}
    </section>
  );
}
