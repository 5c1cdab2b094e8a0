// QmpClient against an in-process fake QMP peer that performs the real greeting and capabilities handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeQemu } from '../../helpers/fake-qmp.js';
import { QmpClient, QmpCommandError, QmpDisconnectedError } from '../../../src/virt/qemu/qmp.js';

test('connects with the greeting and capabilities handshake and reads the version', async () => {
  const peer = await fakeQemu(() => ({ return: { running: true, status: 'running' } }));
  try {
    const c = await QmpClient.connect(peer.path);
    assert.equal(c.version(), 7_002_022);
    assert.deepEqual(peer.seen, ['qmp_capabilities']);
    assert.deepEqual(await c.queryStatus(), { running: true, status: 'running' });
    c.close();
  } finally {
    peer.close();
  }
});

test('matches replies to commands by id even when they arrive out of order, with events interleaved', async () => {
  const held: { id: unknown; sock: Socket; name: string }[] = [];
  const peer = await fakeQemu((cmd, sock) => {
    if (cmd.execute === 'stop' || cmd.execute === 'cont') {
      held.push({ id: cmd.id, sock, name: cmd.execute });
      if (held.length === 2) {
        // Answer the second first, with an event between.
        const [a, b] = held;
        b!.sock.write(`${JSON.stringify({ return: { which: b!.name }, id: b!.id })}\n`);
        sock.write(`${JSON.stringify({ event: 'STOP', timestamp: { seconds: 1, microseconds: 0 } })}\n`);
        a!.sock.write(`${JSON.stringify({ return: { which: a!.name }, id: a!.id })}\n`);
      }
      return undefined;
    }
    return { return: {} };
  });
  try {
    const c = await QmpClient.connect(peer.path);
    const events: string[] = [];
    c.events.on('event', (e: { event: string }) => events.push(e.event));
    const [r1, r2] = await Promise.all([c.execute('stop'), c.execute('cont')]);
    assert.deepEqual(r1, { which: 'stop' });
    assert.deepEqual(r2, { which: 'cont' });
    assert.deepEqual(events, ['STOP']);
    c.close();
  } finally {
    peer.close();
  }
});

test('a refused command rejects with QmpCommandError when QEMU still answers the ping', async () => {
  const peer = await fakeQemu((cmd) =>
    cmd.execute === 'migrate'
      ? { error: { class: 'GenericError', desc: 'There is already a migration in progress' } }
      : { return: { running: true, status: 'running' } },
  );
  try {
    const c = await QmpClient.connect(peer.path);
    await assert.rejects(
      c.migrate('unix:/nowhere'),
      (e: unknown) => e instanceof QmpCommandError && /already a migration/.test(e.message),
    );
    assert.deepEqual(peer.seen.slice(-2), ['migrate', 'query-status']);
    c.close();
  } finally {
    peer.close();
  }
});

test('when QEMU dies every pending command rejects with QmpDisconnectedError', async () => {
  const peer = await fakeQemu((cmd, sock) => {
    if (cmd.execute === 'system_powerdown') {
      setTimeout(() => sock.destroy(), 20);
      return undefined;
    }
    return undefined;
  });
  try {
    const c = await QmpClient.connect(peer.path);
    const closed = c.waitClose(2000);
    const results = await Promise.allSettled([
      c.execute('system_powerdown'),
      c.execute('query-status'),
      c.execute('query-migrate'),
    ]);
    for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof QmpDisconnectedError);
    assert.equal(await closed, true);
    await assert.rejects(c.cont(), QmpDisconnectedError);
  } finally {
    peer.close();
  }
});

test('a command that fails because QEMU went away is reported as death, not as a refusal', async () => {
  const peer = await fakeQemu((cmd, sock) => {
    if (cmd.execute === 'cont') {
      sock.write(`${JSON.stringify({ error: { class: 'GenericError', desc: 'boom' }, id: cmd.id })}\n`);
      sock.destroy();
      return undefined;
    }
    return { return: {} };
  });
  try {
    const c = await QmpClient.connect(peer.path);
    await assert.rejects(c.cont(), QmpDisconnectedError);
  } finally {
    peer.close();
  }
});

test('waitEvent resolves on the named event and null on timeout', async () => {
  const peer = await fakeQemu((cmd, sock) => {
    if (cmd.execute === 'system_powerdown')
      setTimeout(() => sock.write(`${JSON.stringify({ event: 'POWERDOWN' })}\n`), 10);
    return { return: {} };
  });
  try {
    const c = await QmpClient.connect(peer.path);
    const ev = c.waitEvent('POWERDOWN', 2000);
    await c.systemPowerdown();
    assert.equal((await ev)?.event, 'POWERDOWN');
    assert.equal(await c.waitEvent('SHUTDOWN', 50), null);
    c.close();
  } finally {
    peer.close();
  }
});

test('connect fails cleanly when nothing listens', async () => {
  await assert.rejects(QmpClient.connect(join(tmpdir(), 'no-such-qmp.sock'), 500), QmpDisconnectedError);
});
