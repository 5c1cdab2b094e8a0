// The exposition writer: HELP/TYPE lines, escaped label values, histogram buckets, sums and counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpositionWriter, LabeledCounter, LabeledHistogram } from '../../../src/util/prometheus.js';

test('writes families, escapes label values and skips absent samples', () => {
  const w = new ExpositionWriter();
  w.metric('x_total', 'counter', 'An x.\nSecond line', [
    [{ name: 'a "quoted"\\name\n' }, 3],
    [{ name: 'gone' }, null],
  ]);
  assert.equal(
    w.text(),
    '# HELP x_total An x.\\nSecond line\n# TYPE x_total counter\nx_total{name="a \\"quoted\\"\\\\name\\n"} 3\n',
  );
});

test('counters add per label set; histograms count into every bucket at or above the value', () => {
  const c = new LabeledCounter('req_total', 'Requests.', ['route']);
  c.inc(['/a']);
  c.inc(['/a'], 2);
  c.inc(['/b']);
  assert.equal(
    c.total((l) => l.route === '/a'),
    3,
  );
  const h = new LabeledHistogram('lat_seconds', 'Latency.', ['route'], [0.1, 1]);
  h.observe(['/a'], 0.05);
  h.observe(['/a'], 0.5);
  h.observe(['/a'], 5);
  const w = new ExpositionWriter();
  c.write(w);
  h.write(w);
  const text = w.text();
  assert.match(text, /^req_total\{route="\/a"\} 3$/m);
  assert.match(text, /^lat_seconds_bucket\{route="\/a",le="0.1"\} 1$/m);
  assert.match(text, /^lat_seconds_bucket\{route="\/a",le="1"\} 2$/m);
  assert.match(text, /^lat_seconds_bucket\{route="\/a",le="\+Inf"\} 3$/m);
  assert.match(text, /^lat_seconds_sum\{route="\/a"\} 5.55$/m);
  assert.match(text, /^lat_seconds_count\{route="\/a"\} 3$/m);
});
