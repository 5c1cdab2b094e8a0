// Issue 16 item 4: every action the server action API records lists in os-instance-actions with at least one event,
// and every event has a start time, a finish time and a result once the action is done (Nova's
// instance_actions_events), whether a host task or the API itself carried it out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { makeImage, waitFor, V } from './helpers.js';

let cloud: TestCloud;
before(async () => {
  cloud = await createTestCloud();
});
after(async () => {
  await cloud.close();
});

const HEADERS = { 'OpenStack-API-Version': 'compute 2.51' };

async function call(method: string, url: string, body?: unknown) {
  return cloud.request(method, url, { token: cloud.adminToken, body, headers: HEADERS });
}

/** The action of this request id, with its events, once the action has finished. */
async function finishedAction(serverId: string, requestId: string): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const r = await call('GET', `${V}/servers/${serverId}/os-instance-actions/${requestId}`);
    assert.equal(r.status, 200, r.text);
    const a = r.json.instanceAction;
    if (a.events.length > 0 && a.events.every((e: any) => e.finish_time !== null)) return a;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`action ${requestId} never finished`);
}

test('every server action lists with timed, finished events', async () => {
  const image = await makeImage(cloud);
  const created = await cloud.request('POST', `${V}/servers`, {
    token: cloud.adminToken,
    body: { server: { name: 'acted-on', imageRef: image, flavorRef: '42', networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.37' },
  });
  assert.equal(created.status, 202, created.text);
  const id = created.json.server.id as string;
  await waitFor(cloud, cloud.adminToken, id, 'ACTIVE');

  const steps: [action: string, body: unknown, then: string][] = [
    ['pause', { pause: null }, 'PAUSED'],
    ['unpause', { unpause: null }, 'ACTIVE'],
    ['suspend', { suspend: null }, 'SUSPENDED'],
    ['resume', { resume: null }, 'ACTIVE'],
    ['stop', { 'os-stop': null }, 'SHUTOFF'],
    ['start', { 'os-start': null }, 'ACTIVE'],
    ['reboot', { reboot: { type: 'SOFT' } }, 'ACTIVE'],
    ['lock', { lock: null }, 'ACTIVE'],
    ['unlock', { unlock: null }, 'ACTIVE'],
    ['resetState', { 'os-resetState': { state: 'active' } }, 'ACTIVE'],
    ['rescue', { rescue: null }, 'RESCUE'],
    ['unrescue', { unrescue: null }, 'ACTIVE'],
    ['trigger_crash_dump', { trigger_crash_dump: null }, 'ACTIVE'],
    ['createImage', { createImage: { name: 'snap' } }, 'ACTIVE'],
    ['resize', { resize: { flavorRef: '84' } }, 'VERIFY_RESIZE'],
    ['confirmResize', { confirmResize: null }, 'ACTIVE'],
    ['rebuild', { rebuild: { imageRef: image } }, 'ACTIVE'],
    ['shelve', { shelve: null }, 'SHELVED_OFFLOADED'],
    ['unshelve', { unshelve: null }, 'ACTIVE'],
  ];
  const seen: string[] = ['create'];
  for (const [action, body, then] of steps) {
    const r = await call('POST', `${V}/servers/${id}/action`, body);
    assert.ok(r.status >= 200 && r.status < 300, `${action}: ${r.status} ${r.text}`);
    await waitFor(cloud, cloud.adminToken, id, then);
    const a = await finishedAction(id, String(r.headers['x-openstack-request-id']));
    assert.equal(a.action, action);
    for (const e of a.events) {
      assert.ok(e.event, `${action}: an event name`);
      assert.ok(e.start_time && e.finish_time, `${action}: ${e.event} has timings`);
      assert.ok(e.finish_time >= e.start_time, `${action}: ${e.event} finishes after it starts`);
      assert.equal(e.result, 'Success', `${action}: ${e.event}`);
    }
    seen.push(action);
    // After each action the list holds every action so far, newest first, each with its request id.
    const list = await call('GET', `${V}/servers/${id}/os-instance-actions`);
    assert.deepEqual(
      list.json.instanceActions.map((x: any) => x.action),
      [...seen].reverse(),
    );
  }
  const del = await call('DELETE', `${V}/servers/${id}`);
  assert.equal(del.status, 204);
  await waitFor(cloud, cloud.adminToken, id, 'DELETED');
  const gone = await finishedAction(id, String(del.headers['x-openstack-request-id']));
  assert.equal(gone.action, 'delete');
  assert.equal(gone.events[0].result, 'Success');
});
