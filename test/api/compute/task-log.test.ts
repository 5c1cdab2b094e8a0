// Issue 16 item 6: one structured JSON line per host task (start, end, duration, host, task, instance, result) next
// to the one line per request, both carrying the API call's x-openstack-request-id, so one grep follows an action.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { makeImage, waitFor, V } from './helpers.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud({ config: { logging: { level: 'info' } }, logStream: sink });
});
after(async () => {
  await cloud.close();
});

/** The parsed log lines mentioning this text, as `grep` would find them. */
const grep = (text: string): any[] => lines.filter((l) => l.includes(text)).map((l) => JSON.parse(l));

test('grep for a request id finds the request line and the host task line that carried it out', async () => {
  const image = await makeImage(cloud);
  const created = await cloud.request('POST', `${V}/servers`, {
    token: cloud.adminToken,
    body: { server: { name: 'logged', imageRef: image, flavorRef: '42', networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(created.status, 202, created.text);
  const id = created.json.server.id as string;
  await waitFor(cloud, cloud.adminToken, id, 'ACTIVE');
  const paused = await cloud.request('POST', `${V}/servers/${id}/action`, {
    token: cloud.adminToken,
    body: { pause: null },
  });
  assert.equal(paused.status, 202, paused.text);
  await waitFor(cloud, cloud.adminToken, id, 'PAUSED');
  await cloud.controller.computeHost?.agent.drain();

  for (const [reqId, kind, method] of [
    [created.headers['x-openstack-request-id'], 'spawn', 'POST'],
    [paused.headers['x-openstack-request-id'], 'pause', 'POST'],
  ] as const) {
    assert.match(String(reqId), /^req-/);
    const found = grep(String(reqId));
    const request = found.find((l) => l.msg === 'request');
    assert.ok(request, `the request line of ${kind}`);
    assert.equal(request.method, method);
    const task = found.find((l) => l.msg === 'task');
    assert.ok(task, `the task line of ${kind}: ${JSON.stringify(found)}`);
    assert.equal(task.req_id, reqId);
    assert.equal(task.task, kind);
    assert.equal(task.instance_id, id);
    assert.equal(task.result, 'success');
    assert.ok(task.host, 'the host');
    assert.equal(typeof task.ms, 'number');
    assert.ok(task.end >= task.start && !Number.isNaN(Date.parse(task.start)));
    assert.equal(task.error, undefined);
  }
});
