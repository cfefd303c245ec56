import { useMemo, useState } from 'react';
import { Alert, Button, Input, Select, Table, Tag } from 'tdesign-react';
import { api } from '../api';
import { queueService, statusName, windowChoices } from './queue';
import type { HallAppointment } from './queue';
import { useWindowDesk } from './useWindowDesk';
import './window.css';
import '../window/controls.css';

const time = (iso: string) => iso.slice(11, 16);

/** 窗口叫号: pick the hall and window, check citizens in by code, call, recall, skip and finish numbers. */
export default function WindowPage() {
  const service = useMemo(() => queueService(api), []);
  const desk = useWindowDesk(service);
  const [code, setCode] = useState('');
  const { place, hall, current } = desk;
  const ready = Boolean(place.hallId && place.window);

  return (
    <section className="window-desk">
      <h1>窗口叫号</h1>
      <div className="desk-place">
        <label className="field">
          <span id="hall-label">我的大厅</span>
          <Select
            aria-labelledby="hall-label"
            value={place.hallId ?? undefined}
            placeholder="请选择大厅"
            options={desk.halls.map((item) => ({ label: item.name, value: item.id }))}
            onChange={(value) => desk.choose({ hallId: Number(value) })}
            style={{ width: 280 }}
          />
        </label>
        <label className="field">
          <span id="window-label">我的窗口</span>
          <Select
            aria-labelledby="window-label"
            value={place.window ?? undefined}
            placeholder="请选择窗口"
            disabled={!hall}
            options={windowChoices(hall, desk.departmentName)}
            onChange={(value) => desk.choose({ window: Number(value) })}
            style={{ width: 360 }}
          />
        </label>
        {place.hallId ? (
          <a className="screen-link" href={`/console/halls/${place.hallId}/screen`} target="_blank" rel="noreferrer">
            打开本大厅叫号屏 ↗
          </a>
        ) : null}
      </div>

      <div role={desk.notice?.tone === 'error' ? 'alert' : 'status'} data-testid="desk-notice">
        {desk.notice ? (
          <Alert
            theme={desk.notice.tone === 'error' ? 'error' : desk.notice.tone === 'success' ? 'success' : 'info'}
            message={desk.notice.text}
            className="desk-notice"
          />
        ) : null}
      </div>

      {!ready ? <p className="hint">先选择您所在的大厅和窗口，再签到和叫号。</p> : null}

      <div className="desk-panels">
        <section className="panel" aria-labelledby="checkin-title">
          <h2 id="checkin-title">预约签到</h2>
          <p className="hint">群众出示小程序“我的预约”里的预约码，输入后签到取号（A 号，优先叫）。</p>
          <form
            className="checkin-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (code.trim()) void desk.checkIn(code).then((answer) => answer && setCode(''));
            }}
          >
            <label className="field">
              <span>预约码</span>
              <Input name="code" value={code} onChange={(value) => setCode(String(value))} placeholder="如 7K3Q9M" maxlength={12} />
            </label>
            <Button type="submit" disabled={!place.hallId || !code.trim() || desk.busy}>
              签到取号
            </Button>
          </form>
        </section>

        <section className="panel serving-panel" aria-labelledby="serving-title">
          <h2 id="serving-title">{place.window ? `${place.window} 号窗口` : '本窗口'}</h2>
          <div className="serving-number" data-testid="my-number" aria-live="polite">
            {current ? current.number : '—'}
          </div>
          <p className="serving-state">
            {current ? `${statusName(current.status)}${current.window ? ` · ${current.window} 号窗口` : ''}` : '尚未叫号'}
          </p>
          <div className="serving-actions">
            <Button size="large" onClick={() => void desk.callNext()} disabled={!ready || desk.busy}>
              叫下一个号
            </Button>
            <Button
              size="large"
              variant="outline"
              onClick={() => void desk.act('recall')}
              disabled={!current || !['called', 'skipped'].includes(current.status) || desk.busy}
            >
              重新叫号
            </Button>
            <Button
              size="large"
              variant="outline"
              theme="warning"
              onClick={() => void desk.act('skip')}
              disabled={current?.status !== 'called' || desk.busy}
            >
              过号
            </Button>
            <Button
              size="large"
              variant="outline"
              theme="success"
              onClick={() => void desk.act('finish')}
              disabled={current?.status !== 'called' || desk.busy}
            >
              办结
            </Button>
          </div>
          <p className="hint">叫下一个号时，本窗口正在办理的号自动办结。过号：叫号后无人到窗口；群众来了可“重新叫号”。</p>
        </section>
      </div>

      <section className="panel" aria-labelledby="today-title">
        <div className="panel-head">
          <h2 id="today-title">今日预约{hall ? ` · ${hall.name}` : ''}</h2>
          <Button variant="text" onClick={() => void desk.reload()} disabled={!place.hallId}>
            刷新
          </Button>
        </div>
        <Table<HallAppointment>
          rowKey="id"
          data={desk.appointments}
          empty={place.hallId ? '今天本大厅没有预约' : '请先选择大厅'}
          columns={[
            { colKey: 'start', title: '时段', cell: ({ row }) => `${time(row.start)}–${time(row.end)}` },
            { colKey: 'citizen_name', title: '预约人' },
            { colKey: 'id_number_masked', title: '证件号' },
            { colKey: 'matter_name', title: '事项' },
            {
              colKey: 'status',
              title: '状态',
              cell: ({ row }) => (
                <Tag theme={row.status === 'no_show' ? 'danger' : row.status === 'checked_in' ? 'primary' : 'default'} variant="light">
                  {statusName(row.status)}
                </Tag>
              ),
            },
            {
              colKey: 'ticket_number',
              title: '排队号',
              cell: ({ row }) => (row.ticket_number ? `${row.ticket_number}（${statusName(row.ticket_status)}）` : '—'),
            },
          ]}
        />
      </section>
    </section>
  );
}
