// The Tempest gate (tempest-run --strict): every listed id must run and pass; an all-skip run fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strictVerdict, type TempestResult } from '../../helpers/tempest.js';

const r = (name: string, status: TempestResult['status']): TempestResult => ({ name, status });

test('a run where every listed id passed is ok', () => {
  const v = strictVerdict([r('a.b.T.test_1', 'passed'), r('a.b.T.test_2', 'passed')], ['a.b.T.test_1', 'a.b.T.test_2']);
  assert.deepEqual(v, { ok: true, failed: [], notRun: [], skipped: [], nonePassed: false });
});

test('a listed id with no result (renamed, or its class never set up) fails the gate and is named', () => {
  const v = strictVerdict([r('a.b.T.test_1', 'passed')], ['a.b.T.test_1', 'a.b.T.test_renamed']);
  assert.equal(v.ok, false);
  assert.deepEqual(v.notRun, ['a.b.T.test_renamed']);
});

test('a listed id that Tempest skipped fails the gate', () => {
  const v = strictVerdict(
    [r('a.b.T.test_1', 'passed'), r('a.b.T.test_2', 'skipped')],
    ['a.b.T.test_1', 'a.b.T.test_2'],
  );
  assert.equal(v.ok, false);
  assert.deepEqual(v.skipped, ['a.b.T.test_2']);
});

test('an all-skip run and an empty run fail, with or without a list', () => {
  assert.equal(strictVerdict([r('a.b.T.test_1', 'skipped')]).ok, false);
  assert.equal(strictVerdict([r('a.b.T.test_1', 'skipped')]).nonePassed, true);
  assert.equal(strictVerdict([]).ok, false);
  assert.equal(strictVerdict([], []).ok, false);
});

test('a failure fails the gate; a regex run may skip some tests when others pass', () => {
  const v = strictVerdict([r('a.b.T.test_1', 'passed'), r('setUpClass (a.b.U)', 'failed')]);
  assert.deepEqual([v.ok, v.failed], [false, ['setUpClass (a.b.U)']]);
  assert.equal(strictVerdict([r('a.b.T.test_1', 'passed'), r('a.b.T.test_2', 'skipped')]).ok, true);
});
