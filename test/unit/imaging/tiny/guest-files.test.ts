// The guest's scripts checked on the host with busybox (the same shell and awk the guest runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestFiles, FINISHED_MARK } from '../../../../src/imaging/tiny/guest-files.js';
import { openstackMetaData } from '../../../../src/services/metadata/trees.js';
import type { InstanceMetadata } from '../../../../src/services/metadata/model.js';
import { requireCommands } from '../../../helpers/requirements.js';

const BUSYBOX = 'busybox';

test('every guest shell script parses (busybox sh -n)', (t) => {
  if (!requireCommands(t, ['busybox'])) return;
  const scripts = guestFiles(['virtio']).filter((f) => f.data.startsWith('#!/bin/sh'));
  assert.ok(scripts.length >= 4);
  for (const s of scripts) {
    const r = spawnSync(BUSYBOX, ['sh', '-n'], { input: s.data, encoding: 'utf8' });
    assert.equal(r.status, 0, `${s.path}: ${r.stderr}`);
  }
  const boot = guestFiles([]).find((f) => f.path === 'etc/gureum/boot')!.data;
  assert.ok(boot.includes(`m="${FINISHED_MARK} at $(up)s: hostname=`) && FINISHED_MARK === 'gureum-tiny: finished');
  // The finished line goes to the console log (stdout is /dev/console) and to the screen the VNC console shows.
  assert.ok(boot.includes('echo "$m"; echo "$m" >/dev/tty1 2>/dev/null'));
  const inittab = guestFiles([]).find((f) => f.path === 'etc/inittab')!.data;
  assert.match(inittab, /^tty1::respawn:\/sbin\/getty .*tty1/m);
});

test('the module list is written in the order given', () => {
  const f = guestFiles(['virtio_ring', 'virtio', 'virtio_pci']).find((x) => x.path === 'etc/gureum/modules')!;
  assert.equal(f.data, 'virtio_ring\nvirtio\nvirtio_pci\n');
});

test('the guest JSON reader (busybox awk) extracts what the boot script needs from meta_data.json', (t) => {
  if (!requireCommands(t, ['busybox'])) return;
  const md: InstanceMetadata = {
    uuid: '7a3e0c44-1b2d-4c3e-9f00-aabbccddeeff',
    seq: 10,
    name: 'vm "one"',
    hostname: 'vm1',
    projectId: 'p',
    availabilityZone: 'nova',
    launchIndex: 0,
    reservationId: 'r-1',
    imageId: 'i',
    kernelId: null,
    ramdiskId: null,
    flavorName: 'm1.nano',
    keys: [
      { name: 'k1', type: 'ssh', data: 'ssh-ed25519 AAAA1 one@x\n' },
      { name: 'k\\2', type: 'ssh', data: 'ssh-rsa AAAA2 "two"' },
    ],
    userData: null,
    meta: { note: 'a,b{c}[d]', 'nested/key': 'ü' },
    securityGroups: ['default'],
    nics: [],
    password: '',
    launchedAt: null,
  };
  const dir = mkdtempSync(join(tmpdir(), 'json-awk-'));
  try {
    const awk = guestFiles([]).find((f) => f.path === 'usr/share/gureum/json.awk')!.data;
    writeFileSync(join(dir, 'json.awk'), awk);
    writeFileSync(
      join(dir, 'md.json'),
      JSON.stringify(openstackMetaData(md, { dhcpDomain: 'novalocal' }, 'latest'), null, 1),
    );
    const get = (want: string) => {
      const r = spawnSync(BUSYBOX, ['awk', '-v', `want=${want}`, '-f', join(dir, 'json.awk'), join(dir, 'md.json')], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(get('uuid'), `${md.uuid}\n`);
    assert.equal(get('hostname'), 'vm1.novalocal\n');
    assert.equal(get('name'), 'vm "one"\n');
    assert.equal(get('launch_index'), '0\n');
    assert.equal(get('public_keys/'), 'ssh-ed25519 AAAA1 one@x\nssh-rsa AAAA2 "two"\n');
    assert.equal(get('keys/1/name'), 'k\\2\n');
    assert.equal(get('meta/note'), 'a,b{c}[d]\n');
    assert.equal(get('missing'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
