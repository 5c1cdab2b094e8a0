// Debian's openstacksdk (python3-openstacksdk, run by Debian's Python) against a fresh `gureum up` (fake driver):
// image upload/download with checksums, server create and actions, volume attachments, the floating IP lifecycle
// and usage paging, as a user's script would call them (test/compat/openstacksdk/walk.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { REPO_ROOT, requireOrSkip } from '../helpers/requirements.js';
import { DEBIAN_PYTHON } from '../helpers/openstack.js';

const WALK_PY = join(REPO_ROOT, 'test', 'compat', 'openstacksdk', 'walk.py');
const SDK_DIR = '/usr/lib/python3/dist-packages/openstack';

interface Step {
  step: string;
  ok: boolean;
  error?: string;
  trace?: string;
}

test('openstacksdk walk: images, servers, actions, attachments, floating IPs, usage paging', {
  timeout: 900_000,
}, async (t) => {
  if (
    !requireOrSkip(
      t,
      existsSync(SDK_DIR) && existsSync(DEBIAN_PYTHON),
      'needs Debian python3-openstacksdk (node scripts/prepare.mjs --for test installs it)',
    )
  )
    return;
  const server = await startServer({ env: { GUREUM_HYPERVISOR: 'fake' }, readyTimeoutMs: 120_000 });
  t.after(() => server.stop());
  const steps = await new Promise<Step[]>((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [WALK_PY], {
      env: {
        ...process.env,
        OS_CLIENT_CONFIG_FILE: server.cloudsYaml,
        OS_CLOUD: 'gureum',
        WALK_SUFFIX: randomBytes(3).toString('hex'),
        PYTHONWARNINGS: 'ignore',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', () => {
      const lines = out.split('\n').filter((l) => l.startsWith('{'));
      if (lines.length === 0) return reject(new Error(`walk.py reported nothing: ${err}`));
      resolve(lines.map((l) => JSON.parse(l) as Step));
    });
  });
  for (const s of steps) t.diagnostic(`${s.ok ? 'ok' : 'FAILED'}: ${s.step}`);
  const failed = steps.find((s) => !s.ok);
  assert.equal(
    failed,
    undefined,
    failed ? `${failed.step}: ${failed.error}\n${failed.trace}\nserver log:\n${server.logs().slice(-3000)}` : '',
  );
  assert.equal(steps.length, 9, 'every step ran');
});
