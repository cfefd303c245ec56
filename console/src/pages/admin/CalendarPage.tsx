import { useState } from 'react';
import { Alert, Button, Dialog, Input, MessagePlugin, Select } from 'tdesign-react';
import { api } from '../../api';
import { monthGrid, proposedChange, type DayCell } from '../../admin/calendar';
import { apiErrorText } from '../../session/errors';
import { useLoad } from './useLoad';

const WEEKDAYS = ['一', '二', '三', '四', '五', '六', '日'];
const KIND_MARK: Record<DayCell['kind'], string> = { holiday: '休', makeup: '班', weekend: '', weekday: '' };

/** 工作日历: holidays and 调休 make-up days per year;办件时限 and appointments count working days by it. */
export default function CalendarPage() {
  const today = new Date();
  const [year, setYear] = useState(today.getFullYear());
  const [month, setMonth] = useState(today.getMonth() + 1);
  const days = useLoad(() => api.GET('/api/v1/admin/calendar', { query: { year } }), [year]);
  const [chosen, setChosen] = useState<DayCell | null>(null);
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const weeks = monthGrid(year, month, days.data ?? []);
  const years = Array.from({ length: 8 }, (_, i) => today.getFullYear() - 2 + i);

  function step(by: number) {
    const index = year * 12 + (month - 1) + by;
    setYear(Math.floor(index / 12));
    setMonth((index % 12) + 1);
  }

  async function save(action: 'set' | 'clear') {
    if (!chosen) return;
    try {
      if (action === 'clear') {
        await api.DELETE('/api/v1/admin/calendar/{day}', { path: { day: chosen.date } });
      } else {
        await api.PUT('/api/v1/admin/calendar/{day}', {
          path: { day: chosen.date },
          body: { is_workday: proposedChange(chosen).isWorkday, note: note.trim() },
        });
      }
      MessagePlugin.success(`${chosen.date} 已更新，新办件的时限将按此计算。`);
      setChosen(null);
      days.reload();
    } catch (failure) {
      setProblem(apiErrorText(failure));
    }
  }

  return (
    <section>
      <h1>工作日历</h1>
      <p className="page-lead">
        法定节假日按国家公布的数据自动计算；这里设定的节假日（休）和调休上班日（班）优先，也用于国家数据尚未公布的年份。
        办件时限、预约放号都按此日历计算工作日。
      </p>
      {days.error && <Alert theme="error" message={days.error} />}
      <div className="calendar-bar">
        <Button variant="outline" onClick={() => step(-1)}>上个月</Button>
        <label className="field-inline">
          <span>年份</span>
          <Select value={year} onChange={(value) => setYear(Number(value))} options={years.map((y) => ({ label: `${y} 年`, value: y }))} style={{ width: 120 }} />
        </label>
        <label className="field-inline">
          <span>月份</span>
          <Select value={month} onChange={(value) => setMonth(Number(value))} options={Array.from({ length: 12 }, (_, i) => ({ label: `${i + 1} 月`, value: i + 1 }))} style={{ width: 100 }} />
        </label>
        <Button variant="outline" onClick={() => step(1)}>下个月</Button>
      </div>
      <table className="month-grid" aria-label={`${year} 年 ${month} 月`}>
        <thead>
          <tr>{WEEKDAYS.map((day) => <th key={day} scope="col">周{day}</th>)}</tr>
        </thead>
        <tbody>
          {weeks.map((week, w) => (
            <tr key={w}>
              {week.map((cell, d) =>
                cell ? (
                  <td key={d} className={`day ${cell.kind}`}>
                    <button type="button" onClick={() => { setChosen(cell); setNote(cell.note); setProblem(null); }}>
                      {/* the full date and the kind of day for screen readers; the cell shows the day number */}
                      <span className="sr-only">{`${cell.date} ${cell.isWorkday ? '工作日' : '休息日'}${cell.note ? `，${cell.note}` : ''}`}</span>
                      <span className="num" aria-hidden="true">{cell.day}</span>
                      {KIND_MARK[cell.kind] && <span className="mark" aria-hidden="true">{KIND_MARK[cell.kind]}</span>}
                      {cell.note && <span className="note" aria-hidden="true">{cell.note}</span>}
                    </button>
                  </td>
                ) : (
                  <td key={d} />
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="legend"><span className="mark holiday">休</span> 节假日（本处设定） <span className="mark makeup">班</span> 调休上班 · 灰色为周末</p>
      <Dialog
        visible={chosen !== null}
        header={chosen ? `${chosen.date}（${chosen.isWorkday ? '工作日' : '休息日'}）` : ''}
        onClose={() => setChosen(null)}
        footer={
          chosen && (
            <>
              {(chosen.kind === 'holiday' || chosen.kind === 'makeup') && (
                <Button variant="outline" onClick={() => save('clear')}>{proposedChange(chosen).label}</Button>
              )}
              {chosen.kind !== 'holiday' && chosen.kind !== 'makeup' && (
                <Button theme="primary" onClick={() => save('set')}>{proposedChange(chosen).label}</Button>
              )}
            </>
          )
        }
      >
        {chosen && chosen.kind !== 'holiday' && chosen.kind !== 'makeup' && (
          <label className="field">
            <span>说明（如：国庆节、春节调休）</span>
            <Input value={note} maxlength={64} onChange={(value) => setNote(String(value))} />
          </label>
        )}
        {chosen && (chosen.kind === 'holiday' || chosen.kind === 'makeup') && <p>此日为本处设定：{chosen.note || '（无说明）'}。清除后按国家数据或周一至周五计算。</p>}
        {problem && <Alert theme="error" message={problem} />}
      </Dialog>
    </section>
  );
}
