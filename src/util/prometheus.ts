// A small writer for Prometheus's text exposition format 0.0.4 (what /metrics answers), and the two stateful metric
// kinds the server keeps between scrapes: labelled counters and histograms. Written here rather than taking
// prom-client: the format is a page long, and gauges are read fresh at each scrape anyway.

export type Labels = Record<string, string>;

/** The Content-Type of format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function formatLabels(l: Labels): string {
  const keys = Object.keys(l);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(l[k] ?? '')}"`).join(',')}}`;
}

/** Builds one exposition: a HELP and TYPE line per family, then its samples. */
export class ExpositionWriter {
  private readonly out: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A gauge or counter family with its samples in one call. */
  metric(
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    samples: Iterable<[Labels, number | null | undefined]>,
  ): this {
    this.family(name, type, help);
    for (const [l, v] of samples) if (v !== null && v !== undefined) this.sample(name, l, v);
    return this;
  }

  text(): string {
    return `${this.out.join('\n')}\n`;
  }
}

/** Labels as one map key (label order is fixed by the caller's label names). */
const keyOf = (values: string[]) => values.join('\u0000');

/** A counter with a fixed set of label names. */
export class LabeledCounter {
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(labels: string[], by = 1): void {
    const k = keyOf(labels);
    const e = this.values.get(k);
    if (e) e.value += by;
    else this.values.set(k, { labels, value: by });
  }

  /** The sum over every label set whose labels pass `where` (for tests and derived figures). */
  total(where: (labels: Labels) => boolean = () => true): number {
    let sum = 0;
    for (const e of this.values.values()) if (where(this.labelsOf(e.labels))) sum += e.value;
    return sum;
  }

  private labelsOf(values: string[]): Labels {
    return Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? '']));
  }

  write(w: ExpositionWriter): void {
    w.family(this.name, 'counter', this.help);
    for (const e of this.values.values()) w.sample(this.name, this.labelsOf(e.labels), e.value);
  }
}

/** A histogram with fixed buckets (upper bounds, ascending) and a fixed set of label names. */
export class LabeledHistogram {
  private readonly values = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  observe(labels: string[], v: number): void {
    const k = keyOf(labels);
    let e = this.values.get(k);
    if (!e) {
      e = { labels, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.values.set(k, e);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) e.counts[i]!++;
    e.sum += v;
    e.count++;
  }

  write(w: ExpositionWriter): void {
    w.family(this.name, 'histogram', this.help);
    for (const e of this.values.values()) {
      const l: Labels = Object.fromEntries(this.labelNames.map((n, i) => [n, e.labels[i] ?? '']));
      this.buckets.forEach((b, i) => {
        w.sample(`${this.name}_bucket`, { ...l, le: formatValue(b) }, e.counts[i]!);
      });
      w.sample(`${this.name}_bucket`, { ...l, le: '+Inf' }, e.count);
      w.sample(`${this.name}_sum`, l, e.sum);
      w.sample(`${this.name}_count`, l, e.count);
    }
  }
}
