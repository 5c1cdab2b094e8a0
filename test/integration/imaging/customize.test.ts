// customize through the CLI on a real Debian 12 image (built from the factory's cache: no download), checked
// read-only with libguestfs afterwards: run-command, copy-in, upload, enable/disable, firstboot, root password
// from a file (and never on any process's command line). --install needs the apt mirror from inside the
// appliance: its test runs only with GUREUM_TEST_IMAGE_INSTALL=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../../src/imaging/build.js';
import { openGuest } from '../../../src/imaging/guest.js';
import { loadRecipe } from '../../../src/imaging/recipe.js';
import { optIn } from '../../helpers/requirements.js';
import { ensureBuildCache, gureum, requireBuildTools, type CliResult } from './cloud-cli.js';
import { tmpdir } from 'node:os';

const show = (r: CliResult) => `exit ${String(r.code)}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

async function built(dir: string): Promise<string> {
  const out = join(dir, 'debian-12.qcow2');
  const r = await buildImage(loadRecipe('debian-12'), { output: out });
  assert.deepEqual(r.cached.sort(), ['base', 'packages'], 'built from the cache');
  return out;
}

/** Command lines of every process (to prove a secret never appears on one). */
function commandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      /* gone */
    }
  }
  return out;
}

test('customize: run-command, copy-in, upload, enable/disable, firstboot, root password from a file', {
  timeout: 900_000,
}, async (t) => {
  if (!requireBuildTools(t)) return;
  await ensureBuildCache();
  const dir = mkdtempSync(join(tmpdir(), 'gureum-customize-it-'));
  try {
    const img = await built(dir);
    const password = `Pw-${randomBytes(9).toString('hex')}`;
    const pwFile = join(dir, 'root-pw');
    writeFileSync(pwFile, password, { mode: 0o600 });
    const tree = join(dir, 'site');
    mkdirSync(join(tree, 'conf'), { recursive: true });
    writeFileSync(join(tree, 'conf', 'app.ini'), 'mode = golden\n');
    const single = join(dir, 'motd');
    writeFileSync(single, 'Built by the Gureum image factory\n');
    const fb = join(dir, 'first.sh');
    writeFileSync(fb, '#!/bin/sh\necho gureum-firstboot-ran > /var/tmp/firstboot-marker\n', { mode: 0o755 });

    const before = await openGuest(img, { readonly: true });
    let shadowBefore: string | undefined;
    try {
      [shadowBefore] = await before.g.batch([['cat', '/etc/shadow']]);
    } finally {
      await before.g.close(); // also on failure: an open guestfish keeps its appliance running
    }
    const rootBefore = shadowBefore!.split('\n').find((l) => l.startsWith('root:'))!;

    // Bad input is refused before any appliance starts.
    const badUnit = await gureum(['image', 'customize', img, '--enable', 'ssh;reboot']);
    assert.equal(badUnit.code, 2, show(badUnit));
    assert.match(badUnit.stderr, /"ssh;reboot" is not a unit name/);
    const pwArg = await gureum(['image', 'customize', img, '--root-password', password]);
    assert.equal(pwArg.code, 2, show(pwArg));
    assert.match(pwArg.stderr, /unknown option --root-password/);
    const noFile = await gureum(['image', 'customize', img, '--upload', `${join(dir, 'absent')}:/etc/x`]);
    assert.equal(noFile.code, 2, show(noFile));

    const seen: string[] = [];
    const timer = setInterval(() => {
      for (const c of commandLines()) if (c.includes(password)) seen.push(c);
    }, 100);
    let r: CliResult;
    try {
      r = await gureum([
        'image',
        'customize',
        img,
        '--run-command',
        'echo "made by run-command on $(cat /etc/debian_version)" > /etc/gureum-run-command',
        '--copy-in',
        `${tree}:/opt`,
        '--upload',
        `${single}:/etc/motd`,
        '--disable',
        'ssh',
        '--enable',
        'systemd-networkd',
        '--firstboot',
        fb,
        '--root-password-file',
        pwFile,
      ]);
    } finally {
      clearInterval(timer);
    }
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /customized \(7 steps\)/);
    assert.deepEqual(seen, [], 'the password never appears on a command line');

    const after = await openGuest(img, { readonly: true });
    try {
      const [runCmd, ini, motd, sshLink, networkdLink, shadow] = await after.g.batch([
        ['cat', '/etc/gureum-run-command'],
        ['cat', '/opt/site/conf/app.ini'],
        ['cat', '/etc/motd'],
        ['exists', '/etc/systemd/system/multi-user.target.wants/ssh.service'],
        ['exists', '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service'],
        ['cat', '/etc/shadow'],
      ]);
      assert.match(runCmd!, /^made by run-command on 12\.\d+/);
      // guestfish prints a file's text followed by one newline of its own.
      assert.equal(ini, 'mode = golden\n\n');
      assert.equal(motd, 'Built by the Gureum image factory\n\n');
      assert.equal(sshLink!.trim(), 'false', 'ssh disabled');
      assert.equal(networkdLink!.trim(), 'true', 'systemd-networkd enabled');
      // The first-boot script is installed with virt-customize's first-boot service.
      const scripts = (await after.g.call(['ls', '/usr/lib/virt-sysprep/scripts'])).split('\n').filter(Boolean);
      assert.equal(scripts.length, 1, scripts.join(','));
      assert.match(await after.g.call(['cat', `/usr/lib/virt-sysprep/scripts/${scripts[0]!}`]), /gureum-firstboot-ran/);
      assert.equal(
        (
          await after.g.call(['exists', '/etc/systemd/system/multi-user.target.wants/guestfs-firstboot.service'])
        ).trim(),
        'true',
      );
      // The root entry changed to a usable hash of exactly this password.
      const rootAfter = shadow!.split('\n').find((l) => l.startsWith('root:'))!;
      assert.notEqual(rootAfter, rootBefore);
      const hash = rootAfter.split(':')[1]!;
      assert.match(hash, /^\$(6|y|5)\$/);
      const check = execFileSync(
        'python3',
        [
          '-W',
          'ignore',
          '-c',
          'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])',
          password,
          hash,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(check.trim(), 'True', 'the hash is of the password in the file');
    } finally {
      await after.g.close();
    }

    // virt-customize leaves identity behind (it writes a machine-id): the audit says so until the image is sealed.
    const audit = await gureum(['image', 'audit', img, '--json']);
    assert.equal(audit.code, 1, show(audit));
    assert.ok((JSON.parse(audit.stdout) as { findings: { op: string }[] }).findings.some((f) => f.op === 'machine-id'));
    assert.match(r.stderr, /run `gureum image seal` before publishing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('customize --install reaches the apt mirror from inside the appliance (runs under CI, else ' +
  'GUREUM_TEST_IMAGE_INSTALL=1)', {
  timeout: 900_000,
}, async (t) => {
  if (!optIn(t, 'GUREUM_TEST_IMAGE_INSTALL', 'downloads a package from the apt mirror')) return;
  if (!requireBuildTools(t)) return;
  await ensureBuildCache();
  const dir = mkdtempSync(join(tmpdir(), 'gureum-customize-it-'));
  try {
    const img = await built(dir);
    const r = await gureum(['image', 'customize', img, '--install', 'hello']);
    assert.equal(r.code, 0, show(r));
    const g = await openGuest(img, { readonly: true });
    try {
      assert.equal((await g.g.call(['is-file', '/usr/bin/hello'])).trim(), 'true');
    } finally {
      await g.g.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
