import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canDo, checkState, statusOf } from '../../../src/services/compute/states.js';

test('status is derived from vm_state and task_state as Nova does', () => {
  assert.equal(statusOf('active', null), 'ACTIVE');
  assert.equal(statusOf('active', 'rebooting_hard'), 'HARD_REBOOT');
  assert.equal(statusOf('stopped', 'resize_prep'), 'RESIZE');
  assert.equal(statusOf('resized', 'resize_reverting'), 'REVERT_RESIZE');
  assert.equal(statusOf('shelved_offloaded', null), 'SHELVED_OFFLOADED');
  assert.equal(statusOf('building', 'spawning'), 'BUILD');
  assert.equal(statusOf('error', 'rebuilding'), 'REBUILD');
});

test("actions are allowed only in their states, with Nova's conflict message otherwise", () => {
  assert.ok(canDo('pause', { vm_state: 'active', task_state: null }));
  assert.ok(!canDo('pause', { vm_state: 'active', task_state: 'rebooting' }));
  assert.ok(canDo('reboot_hard', { vm_state: 'stopped', task_state: null }));
  assert.ok(!canDo('reboot_soft', { vm_state: 'stopped', task_state: null }));
  assert.throws(
    () => checkState('unpause', { id: 'i1', vm_state: 'active', task_state: null }),
    (e: Error) => e.message === "Cannot 'unpause' instance i1 while it is in vm_state active",
  );
  assert.throws(
    () => checkState('pause', { id: 'i1', vm_state: 'active', task_state: 'pausing' }),
    (e: Error) => e.message === "Cannot 'pause' instance i1 while it is in task_state pausing",
  );
});
