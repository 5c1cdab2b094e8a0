// The image walk-through with Debian's stock `openstack` CLI against a real `gureum up`.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { openstack, openstackJson, openstackOk, type CliIdentity, explained } from '../helpers/openstack.js';
import { requireCommands, skipAfterFailedStep } from '../helpers/requirements.js';

const QEMU_IMG = '/usr/bin/qemu-img';

test('image walk-through with the stock openstack CLI', { timeout: 600_000 }, async (t) => {
  if (!requireCommands(t, ['openstack', 'qemu-img'])) return;
  const server = await startServer();
  const work = mkdtempSync(join(tmpdir(), 'gureum-image-cli-'));
  t.after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const admin: CliIdentity = { cloudsYaml: server.cloudsYaml };
  const json = <T = any>(who: CliIdentity, args: string[]) => explained(openstackJson<T>(who, args, { debug: true }));
  const ok = (who: CliIdentity, args: string[]) => explained(openstackOk(who, args, { debug: true }));

  let broken: string | null = null;
  const step = (name: string, fn: (st: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      if (broken) return skipAfterFailedStep(st, broken);
      try {
        await fn(st);
      } catch (err) {
        broken = name;
        throw err;
      }
    });

  const tiny = join(work, 'tiny.qcow2');
  execFileSync(QEMU_IMG, ['create', '-f', 'qcow2', tiny, '64M'], { stdio: 'ignore' });
  const md5 = createHash('md5').update(readFileSync(tiny)).digest('hex');
  let id = '';
  const other = {
    username: 'img-cli-user',
    password: 'pw-img-cli-1',
    projectName: 'img-cli-project',
    domainName: 'Default',
  };
  const otherWho: CliIdentity = { authUrl: server.authUrl, credentials: other, regionName: server.regionName };
  let otherProjectId = '';

  await step('image create --file tiny.qcow2 --public with min disk/ram', async () => {
    const img = await json(admin, [
      'image',
      'create',
      '--file',
      tiny,
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      '--min-disk',
      '1',
      '--min-ram',
      '64',
      '--public',
      'tiny',
    ]);
    id = img.id;
    const shown = await json(admin, ['image', 'show', id]);
    assert.equal(shown.status, 'active');
    assert.equal(shown.visibility, 'public');
    assert.equal(shown.min_disk, 1);
    assert.equal(shown.min_ram, 64);
    assert.equal(shown.checksum, md5);
    assert.equal(shown.disk_format, 'qcow2');
    assert.equal(shown.virtual_size, 64 * 1024 * 1024);
  });

  await step('image list and show by name', async () => {
    const list = await json<{ ID: string; Name: string; Status: string }[]>(admin, ['image', 'list']);
    assert.ok(list.some((i) => i.ID === id && i.Name === 'tiny' && i.Status === 'active'));
    const byName = await json(admin, ['image', 'show', 'tiny']);
    assert.equal(byName.id, id);
    const filtered = await json<{ ID: string }[]>(admin, ['image', 'list', '--public', '--property', 'os_distro=nope']);
    assert.equal(filtered.length, 0);
  });

  await step('image set / unset properties, tags, name', async () => {
    await ok(admin, ['image', 'set', '--property', 'os_distro=debian', '--tag', 'golden', '--name', 'tiny2', id]);
    let shown = await json(admin, ['image', 'show', id]);
    assert.equal(shown.name, 'tiny2');
    assert.equal(shown.properties?.os_distro ?? shown.os_distro, 'debian');
    assert.ok(String(shown.tags).includes('golden'));
    await ok(admin, ['image', 'unset', '--property', 'os_distro', '--tag', 'golden', id]);
    shown = await json(admin, ['image', 'show', id]);
    assert.equal(shown.properties?.os_distro ?? shown.os_distro, undefined);
    assert.ok(!String(shown.tags).includes('golden'));
  });

  await step('image save downloads the same bytes', async () => {
    const out = join(work, 'saved.qcow2');
    await ok(admin, ['image', 'save', '--file', out, id]);
    assert.equal(createHash('md5').update(readFileSync(out)).digest('hex'), md5);
  });

  await step('image add project, then the member accepts with image set --accept', async () => {
    otherProjectId = (await json(admin, ['project', 'create', other.projectName])).id;
    await json(admin, ['user', 'create', '--password', other.password, '--project', other.projectName, other.username]);
    await ok(admin, ['role', 'add', '--project', other.projectName, '--user', other.username, 'member']);
    const shared = await json(admin, [
      'image',
      'create',
      '--file',
      tiny,
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      '--shared',
      'to-share',
    ]);
    const member = await json(admin, ['image', 'add', 'project', shared.id, other.projectName]);
    assert.equal(member.status, 'pending');
    let seen = await json<{ ID: string }[]>(otherWho, ['image', 'list']);
    assert.ok(!seen.some((i) => i.ID === shared.id), 'a pending share is not listed');
    await ok(otherWho, ['image', 'set', '--accept', shared.id]);
    seen = await json<{ ID: string }[]>(otherWho, ['image', 'list']);
    assert.ok(
      seen.some((i) => i.ID === shared.id),
      'an accepted share is listed',
    );
    const members = await json<{ 'Member ID': string; Status: string }[]>(admin, [
      'image',
      'member',
      'list',
      shared.id,
    ]);
    assert.deepEqual(
      members.map((m) => [m['Member ID'], m.Status]),
      [[otherProjectId, 'accepted']],
    );
  });

  await step('image set --protected, then delete is refused until unprotected', async () => {
    await ok(admin, ['image', 'set', '--protected', id]);
    const res = await openstack(admin, ['image', 'delete', id]);
    assert.notEqual(res.status, 0, 'deleting a protected image must fail');
    assert.equal((await json(admin, ['image', 'show', id])).status, 'active');
    await ok(admin, ['image', 'set', '--unprotected', id]);
    await ok(admin, ['image', 'delete', id]);
    const gone = await openstack(admin, ['image', 'show', id]);
    assert.notEqual(gone.status, 0);
  });

  await step('a bad disk format is refused by the server', async () => {
    const bad = join(work, 'bad.raw');
    execFileSync(QEMU_IMG, ['create', '-f', 'raw', bad, '1M'], { stdio: 'ignore' });
    const res = await openstack(admin, [
      'image',
      'create',
      '--file',
      bad,
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      'liar',
    ]);
    assert.notEqual(res.status, 0, 'raw data declared as qcow2 must be refused');
    const list = await json<{ Name: string }[]>(admin, ['image', 'list']);
    assert.ok(!list.some((i) => i.Name === 'liar'), 'the CLI deletes the image it could not fill');
  });
});
