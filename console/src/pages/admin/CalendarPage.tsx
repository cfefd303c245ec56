import { useState } from 'react';
import { Alert, Button, Dialog, Input, MessagePlugin, Select } from 'tdesign-react';
import { api } from '../../api';
import { DAY_KINDS, dayLabel, monthGrid, proposedChange, type DayCell, type DayKind } from '../../admin/calendar';
import { apiErrorText } from '../../session/errors';
import { useLoad } from './useLoad';

const WEEKDAYS = ['一', '二', '三', '四', '五', '六', '日'];
const LEGEND: DayKind[] = ['statutoryHoliday', 'statutoryMakeup', 'holiday', 'makeup'];

/** 工作日历: holidays and 调休 make-up days per year;办件时限 and appointments count working days by it. */
export default function CalendarPage() {
  const today = new Date();
  const [year, setYear] = useState(today.getFullYear());
  const [month, setMonth] = useState(today.getMonth() + 1);
  const days = useLoad(async () => {
    const [overrides, statutory] = await Promise.all([
      api.GET('/api/v1/admin/calendar', { query: { year } }),
      api.GET('/api/v1/admin/calendar/statutory', { query: { year } }),
    ]);
    return { overrides, statutory };
  }, [year]);
  const [chosen, setChosen] = useState<DayCell | null>(null);
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const weeks = monthGrid(year, month, days.data?.overrides ?? [], days.data?.statutory ?? []);
  const noStatutoryData = days.data !== null && days.data.statutory.length === 0;
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
                      <span className="sr-only">{dayLabel(cell)}</span>
                      <span className="num" aria-hidden="true">{cell.day}</span>
                      {DAY_KINDS[cell.kind].mark && <span className={`mark ${cell.kind}`} aria-hidden="true">{DAY_KINDS[cell.kind].mark}</span>}
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
      {noStatutoryData && (
        <Alert theme="warning" message={`国家尚未公布 ${year} 年的节假日安排：未设定的日子按周一至周五上班计算，请在公布后核对或在此设定。`} />
      )}
      <ul className="legend" aria-label="图例">
        {LEGEND.map((kind) => (
          <li key={kind}>
            <span className={`mark ${kind}`}>{DAY_KINDS[kind].mark}</span> {DAY_KINDS[kind].meaning}
          </li>
        ))}
        <li>灰底无标记：周末</li>
      </ul>
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
        {chosen && (chosen.kind === 'statutoryHoliday' || chosen.kind === 'statutoryMakeup') && (
          <p>此日为{DAY_KINDS[chosen.kind].meaning}：{chosen.note}。如需例外，可在此另行设定。</p>
        )}
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
