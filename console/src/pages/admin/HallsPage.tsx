import { useState } from 'react';
import { Alert, Button, Checkbox, Input, InputNumber, MessagePlugin, Select, Table, Tag } from 'tdesign-react';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import { useSession } from '../../session/SessionContext';
import { useLoad } from './useLoad';
import HallsEditor from './HallsEditor';

const WEEKDAY_NAMES = ['', '一', '二', '三', '四', '五', '六', '日'];

/** 大厅与排班: the halls, and the appointment schedules (slot templates) of the department's matters. */
export default function HallsPage() {
  const { staff } = useSession();
  const ownDepartment = staff && !staff.roles.includes('admin') ? staff.department_id : null;
  const loaded = useLoad(async () => {
    const [halls, schedules, matters] = await Promise.all([
      api.GET('/api/v1/halls', { query: { page_size: 100 } }),
      api.GET('/api/v1/admin/schedules', { query: { page_size: 100 } }),
      api.GET('/api/v1/matters', { query: { page_size: 100, ...(ownDepartment ? { department_id: ownDepartment } : {}) } }),
    ]);
    return { halls: halls.items, schedules: schedules.items, matters: matters.items };
  }, [ownDepartment]);
  const [hallId, setHallId] = useState<number | null>(null);
  const [matterId, setMatterId] = useState<number | null>(null);
  const [weekdays, setWeekdays] = useState([1, 2, 3, 4, 5]);
  const [start, setStart] = useState('09:00');
  const [end, setEnd] = useState('12:00');
  const [slotMinutes, setSlotMinutes] = useState<30 | 60>(30);
  const [capacity, setCapacity] = useState(5);
  const [problem, setProblem] = useState<string | null>(null);

  if (loaded.error) return <Alert theme="error" message={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const { halls, schedules, matters } = loaded.data;
  const hallName = (id: number) => halls.find((hall) => hall.id === id)?.name ?? `大厅 ${id}`;
  const matterName = (id: number) => matters.find((matter) => matter.id === id)?.name ?? `事项 ${id}`;

  async function create() {
    if (!hallId || !matterId) return setProblem('请选择大厅和事项。');
    if (!/^\d\d:\d\d$/.test(start) || !/^\d\d:\d\d$/.test(end) || end <= start) return setProblem('时段按 09:00 的格式填写，结束要晚于开始。');
    try {
      await api.POST('/api/v1/admin/schedules', {
        body: { hall_id: hallId, matter_id: matterId, weekdays, ranges: [{ start, end }], slot_minutes: slotMinutes, capacity },
      });
      MessagePlugin.success('已新建排班，号源将按放号时间放出。');
      setProblem(null);
      loaded.reload();
    } catch (failure) {
      setProblem(apiErrorText(failure));
    }
  }

  async function toggle(schedule: (typeof schedules)[number]) {
    const { id, hall_id: _hall, matter_id: _matter, department_id: _department, ...rules } = schedule;
    try {
      await api.PUT('/api/v1/admin/schedules/{schedule_id}', { path: { schedule_id: id }, body: { ...rules, active: !schedule.active } });
      MessagePlugin.success(schedule.active ? '已停止放号；已放出的号和预约不受影响。' : '已恢复放号。');
      loaded.reload();
    } catch (failure) {
      MessagePlugin.error(apiErrorText(failure));
    }
  }

  return (
    <section>
      <h1>大厅与排班</h1>
      <HallsEditor allHalls={halls} matters={matters} onChanged={loaded.reload} />
      <h2>预约排班（号源模板）</h2>
      <Table
        rowKey="id"
        data={schedules}
        empty="还没有排班"
        columns={[
          { colKey: 'hall_id', title: '大厅', cell: ({ row }) => hallName(row.hall_id) },
          { colKey: 'matter_id', title: '事项', cell: ({ row }) => matterName(row.matter_id) },
          { colKey: 'weekdays', title: '星期', cell: ({ row }) => (row.weekdays ?? []).map((d) => `周${WEEKDAY_NAMES[d]}`).join(' ') },
          { colKey: 'ranges', title: '时段', cell: ({ row }) => row.ranges.map((r) => `${r.start}-${r.end}`).join('，') },
          { colKey: 'slot', title: '每号', width: 150, cell: ({ row }) => `${row.slot_minutes} 分钟 · ${row.capacity} 人` },
          { colKey: 'active', title: '状态', width: 90, cell: ({ row }) => (row.active ? <Tag theme="success" variant="light">放号中</Tag> : <Tag variant="light">已停</Tag>) },
          {
            colKey: 'toggle',
            title: '操作',
            width: 110,
            cell: ({ row }) => (
              <Button variant="text" theme={row.active ? 'danger' : 'primary'} onClick={() => toggle(row)}>
                {row.active ? '停止放号' : '恢复放号'}
              </Button>
            ),
          },
        ]}
      />
      <h2>新建排班</h2>
      <div className="form-grid">
        <label className="field">
          <span>大厅</span>
          <Select value={hallId ?? undefined} onChange={(value) => setHallId(Number(value))} options={halls.map((h) => ({ label: h.name, value: h.id }))} placeholder="选择大厅" />
        </label>
        <label className="field">
          <span>事项</span>
          <Select value={matterId ?? undefined} onChange={(value) => setMatterId(Number(value))} options={matters.map((m) => ({ label: m.name, value: m.id }))} placeholder="选择事项" filterable />
        </label>
        <label className="field">
          <span>开始（如 09:00）</span>
          <Input value={start} onChange={(value) => setStart(String(value))} />
        </label>
        <label className="field">
          <span>结束（如 12:00）</span>
          <Input value={end} onChange={(value) => setEnd(String(value))} />
        </label>
        <label className="field">
          <span>每号时长</span>
          <Select value={slotMinutes} onChange={(value) => setSlotMinutes(Number(value) as 30 | 60)} options={[{ label: '30 分钟', value: 30 }, { label: '60 分钟', value: 60 }]} />
        </label>
        <label className="field">
          <span>每号可约人数</span>
          <InputNumber min={1} max={1000} value={capacity} onChange={(value) => setCapacity(Number(value))} />
        </label>
      </div>
      <fieldset className="checks">
        <legend>放号星期</legend>
        {[1, 2, 3, 4, 5, 6, 7].map((day) => (
          <Checkbox key={day} checked={weekdays.includes(day)} onChange={(checked) => setWeekdays(checked ? [...weekdays, day].sort() : weekdays.filter((d) => d !== day))}>
            周{WEEKDAY_NAMES[day]}
          </Checkbox>
        ))}
      </fieldset>
      <div role="alert" aria-live="polite">{problem && <Alert theme="error" message={problem} />}</div>
      <Button theme="primary" onClick={create}>新建排班</Button>
    </section>
  );
}
