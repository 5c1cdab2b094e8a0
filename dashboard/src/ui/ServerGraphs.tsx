// The graphs tab of an instance: CPU, disk and network from Gureum's built-in time-series store, over 1, 6 or 24
// hours. A new instance has no points until the collector's first samples (an empty state says so).
import { useState } from 'react';
import { useServerSeries, type Metric } from '../api/monitoring';
import { ErrorNote } from './ErrorNote';
import { TimeSeriesChart, type ChartSeries } from './TimeSeriesChart';
import { useT, type MessageKey } from '../i18n';

/** Which series each chart draws (the API names them; docs/observability.md). */
const CHARTS: { metric: Metric; title: MessageKey; series: [string, MessageKey][] }[] = [
  { metric: 'cpu', title: 'graphs.cpu', series: [['cpu_percent', 'graphs.cpuUse']] },
  { metric: 'disk', title: 'graphs.disk', series: [['disk_read_bytes_per_sec', 'graphs.read'], ['disk_write_bytes_per_sec', 'graphs.write']] },
  { metric: 'net', title: 'graphs.net', series: [['net_rx_bytes_per_sec', 'graphs.rx'], ['net_tx_bytes_per_sec', 'graphs.tx']] },
];

function Chart({ serverId, chart, hours }: { serverId: string; chart: (typeof CHARTS)[number]; hours: number }) {
  const t = useT();
  const q = useServerSeries(serverId, chart.metric, hours);
  if (q.error) return <ErrorNote error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <p className="muted">{t('common.loading')}</p>;
  const d = q.data;
  const first = chart.series[0]![0];
  const series: ChartSeries[] = chart.series.map(([key, label]) => ({ key, label: t(label), points: d.series[key] ?? [] }));
  return <TimeSeriesChart title={t(chart.title)} unit={d.units[first] ?? ''} start={d.start} end={d.end} series={series} threshold={d.thresholds[first]} />;
}

export function ServerGraphs({ serverId }: { serverId: string }) {
  const t = useT();
  const [hours, setHours] = useState(1);
  return (
    <div className="graphs">
      <div className="tabs" role="group" aria-label={t('graphs.range')}>
        {[1, 6, 24].map((h) => <button key={h} type="button" aria-pressed={hours === h} onClick={() => setHours(h)}>{t('graphs.hours', { n: h })}</button>)}
      </div>
      {CHARTS.map((c) => <Chart key={c.metric} serverId={serverId} chart={c} hours={hours} />)}
    </div>
  );
}
