import { useState } from 'react';
import { Alert, Button, Table } from 'tdesign-react';
import { api } from '../../api';
import { apiErrorText } from '../../session/errors';
import { hasFigures, type Column, type Row } from '../../supervision/figures';
import { downloadExport, exportUrl, type FileFormat, type ReportName } from '../../supervision/download';
import type { Period } from '../../supervision/period';
import EChart from '../../supervision/EChart';

interface Props {
  id: string;
  title: string;
  chart: { series: Array<{ data: Array<number | null> }> };
  chartLabel: string;
  columns: Column[];
  rows: Row[];
  report: ReportName;
  period: Period;
  departmentId: number | null;
  note?: string;
}

/** A chart, the table of its numbers, and its CSV and Excel export: the three say the same figures. */
export default function FigureSection({ id, title, chart, chartLabel, columns, rows, report, period, departmentId, note }: Props) {
  const [message, setMessage] = useState<{ theme: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<FileFormat | null>(null);

  async function save(format: FileFormat) {
    setBusy(format);
    setMessage(null);
    try {
      const name = await downloadExport(api, exportUrl(report, format, period, departmentId), `${report}.${format}`);
      setMessage({ theme: 'success', text: `已导出 ${name}` });
    } catch (error) {
      setMessage({ theme: 'error', text: `导出失败：${apiErrorText(error)}` });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="figure-section" aria-labelledby={`${id}-title`} data-testid={id}>
      <div className="figure-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <span className="figure-actions">
          <Button variant="outline" loading={busy === 'csv'} onClick={() => save('csv')}>
            导出 CSV
          </Button>
          <Button variant="outline" loading={busy === 'xlsx'} onClick={() => save('xlsx')}>
            导出 Excel
          </Button>
        </span>
      </div>
      {note && <p className="figure-note">{note}</p>}
      {message && <Alert theme={message.theme} message={message.text} />}
      {hasFigures(chart) ? (
        <EChart option={chart} label={chartLabel} />
      ) : (
        <p className="figure-empty">本期没有可画图的数据（如尚无评价），各项计数见下表。</p>
      )}
      <Table
        rowKey="key"
        size="small"
        bordered
        data={rows}
        columns={columns.map((column) => ({ colKey: column.key, title: column.title, align: column.kind === 'text' ? 'left' : 'right' }))}
        empty="本期没有数据"
      />
    </section>
  );
}
