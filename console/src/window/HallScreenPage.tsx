import { useMemo } from 'react';
import { useParams } from 'react-router-dom';
import { api } from '../api';
import { queueService } from './queue';
import { speechText } from './screen';
import { useHallScreen } from './useHallScreen';
import './screen.css';

/** The hall's waiting-room screen: who is served at which window, how many wait, read out as numbers are called. */
export default function HallScreenPage() {
  const hallId = Number(useParams().hallId);
  const service = useMemo(() => queueService(api), []);
  const screen = useHallScreen(service, hallId);
  const { queue } = screen;
  const latest = screen.recent[0];
  if (screen.missing) {
    return (
      <main className="hall-screen">
        <h1>没有这个大厅</h1>
        <p className="screen-empty" role="alert">
          叫号屏地址中的大厅编号（{hallId}）不存在。请在工作台“窗口叫号”页点击“打开本大厅叫号屏”获取正确地址。
        </p>
      </main>
    );
  }

  return (
    <main className="hall-screen">
      <header className="screen-head">
        <h1>{screen.hall ? screen.hall.name : '政务服务大厅'} · 叫号</h1>
        {screen.canSpeak ? (
          screen.soundOn ? (
            <span className="sound-state">语音播报已开启</span>
          ) : (
            <button type="button" className="sound-button" onClick={screen.enableSound}>
              开启语音播报
            </button>
          )
        ) : (
          <span className="sound-state">此浏览器不支持语音播报</span>
        )}
      </header>

      {screen.offline ? (
        <p className="screen-offline" role="alert">
          网络中断，正在重新连接…（以下为最后一次的叫号情况）
        </p>
      ) : null}

      <section className="screen-latest" aria-live="assertive" aria-label="最新叫号">
        {latest ? <p data-testid="latest-call">{speechText(latest)}</p> : <p>请留意叫号，凭排队号到对应窗口办理</p>}
      </section>

      <div className="screen-body">
        <section className="screen-serving" aria-labelledby="serving-heading">
          <h2 id="serving-heading">正在办理</h2>
          {queue && queue.serving.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">排队号</th>
                  <th scope="col">窗口</th>
                </tr>
              </thead>
              <tbody>
                {queue.serving.map((entry) => (
                  <tr key={entry.number} data-testid="serving-row">
                    <td className="screen-number">{entry.number}</td>
                    <td className="screen-window">{entry.window ? `${entry.window} 号窗口` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="screen-empty">{queue ? '暂无办理中的号' : '正在载入…'}</p>
          )}
        </section>

        <aside className="screen-side">
          <section aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">等候人数</h2>
            <p className="screen-waiting" data-testid="waiting">
              {queue ? queue.waiting : '—'}
            </p>
            {queue ? (
              <p className="screen-split">
                预约 {queue.waiting_appointments} · 现场 {queue.waiting_walk_ins}
              </p>
            ) : null}
          </section>
          {screen.recent.length > 1 ? (
            <section aria-labelledby="recent-heading" className="screen-recent">
              <h2 id="recent-heading">刚刚叫号</h2>
              <ul>
                {screen.recent.slice(1).map((item, index) => (
                  <li key={`${item.number}-${index}`}>
                    {item.number} → {item.window ? `${item.window} 号窗口` : '窗口'}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          {queue?.average_wait_minutes != null ? (
            <p className="screen-split">今日平均等候约 {Math.round(queue.average_wait_minutes)} 分钟</p>
          ) : null}
        </aside>
      </div>
      <footer className="screen-foot">过号请到咨询台，工作人员可为您重新叫号 · 预约号（A）优先叫号</footer>
    </main>
  );
}
