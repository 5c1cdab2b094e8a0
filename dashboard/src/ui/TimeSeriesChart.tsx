// A line chart in SVG (no chart library): one line per series over a fixed time range, gaps where a point is null,
// dashed threshold lines in the warning/critical colours, the latest value coloured by the level it reached, units
// on the axis. Attributes only, no inline styles (the CSP forbids them).
import type { Point } from '../api/monitoring';
import { useT } from '../i18n';

const W = 900;
const H = 180;
const PAD = { left: 56, right: 8, top: 8, bottom: 22 };

export interface ChartSeries { key: string; label: string; points: Point[] }

/** "12.5 %", "3.1 MiB/s", "420 ops/s". */
export function formatValue(v: number, unit: string): string {
  if (unit === 'percent') return `${v.toFixed(v < 10 ? 1 : 0)} %`;
  if (unit.startsWith('bytes')) {
    const per = unit.replace(/^bytes/, '').replace('_per_second', '/s').replace('/second', '/s');
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let x = v;
    let i = 0;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return `${x.toFixed(x < 10 && i > 0 ? 1 : 0)} ${units[i]}${per || ''}`;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${unit.replace('_per_second', '/s')}`;
}

function path(points: Point[], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const [t, v] of points) {
    if (v === null) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function TimeSeriesChart(props: {
  title: string;
  unit: string;
  start: number;
  end: number;
  series: ChartSeries[];
  threshold?: { warning: number; critical: number };
}) {
  const t = useT();
  const { title, unit, start, end, series, threshold } = props;
  const values = series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const hasData = values.length > 0;
  // Percent charts keep 0-100 (more when TCG's emulator threads push past it); others scale to their peak.
  const peak = Math.max(...values, 0);
  const max = unit === 'percent' ? Math.max(100, peak) : peak > 0 ? peak * 1.15 : 1;
  const x = (time: number) => PAD.left + ((time - start) / Math.max(1, end - start)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const latest = (s: ChartSeries) => [...s.points].reverse().find((p) => p[1] !== null)?.[1] ?? null;
  const level = (v: number | null) => (v === null || !threshold ? 'ok' : v >= threshold.critical ? 'critical' : v >= threshold.warning ? 'warning' : 'ok');
  return (
    <figure className="chart" data-chart={title}>
      <figcaption>
        <strong>{title}</strong>
        {series.map((s, i) => {
          const v = latest(s);
          return <span key={s.key} className={`legend-item series-${i} level-${level(v)}`} data-series={s.key} data-latest={v ?? ''}>{s.label}: {v === null ? '–' : formatValue(v, unit)}</span>;
        })}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} (${unit})`}>
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
        <text className="tick" x={PAD.left - 4} y={PAD.top + 8} textAnchor="end">{formatValue(max, unit)}</text>
        <text className="tick" x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end">0</text>
        <text className="tick" x={PAD.left} y={H - 6}>{clock(start)}</text>
        <text className="tick" x={W - PAD.right} y={H - 6} textAnchor="end">{clock(end)}</text>
        {threshold && threshold.warning <= max && <line className="threshold warning" x1={PAD.left} x2={W - PAD.right} y1={y(threshold.warning)} y2={y(threshold.warning)} />}
        {threshold && threshold.critical <= max && <line className="threshold critical" x1={PAD.left} x2={W - PAD.right} y1={y(threshold.critical)} y2={y(threshold.critical)} />}
        {hasData && series.map((s, i) => <path key={s.key} className={`line series-${i}`} d={path(s.points, x, y)} data-series={s.key} />)}
        {hasData && series.map((s, i) => s.points.filter((p, k) => p[1] !== null && (s.points[k - 1]?.[1] ?? null) === null && (s.points[k + 1]?.[1] ?? null) === null)
          .map((p) => <circle key={`${s.key}-${p[0]}`} className={`dot series-${i}`} cx={x(p[0])} cy={y(p[1]!)} r={2.5} />))}
        {!hasData && <text className="empty" x={W / 2} y={H / 2} textAnchor="middle">{t('graphs.empty')}</text>}
      </svg>
    </figure>
  );
}
