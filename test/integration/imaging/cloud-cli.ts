// Helpers of the imaging integration tests that run `gureum image` against a running cloud.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultCacheDir, packagesKey } from '../../../src/imaging/build.js';
import { findMirror } from '../../../src/imaging/apt-sources.js';
import { loadRecipe } from '../../../src/imaging/recipe.js';
import type { TestContext } from 'node:test';
import { requireCommands, requireRoot } from '../../helpers/requirements.js';
import { plantTree } from '../../unit/imaging/factory/planted-tree.js';
import { MAIN_JS, passwordAuthBody, type TestServer } from '../../helpers/server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gureum ARGS` as its own process; OS_* variables removed so credentials come from the data dir. */
export function gureum(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('OS_')) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', MAIN_JS, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A token and the image endpoint of the server's admin. */
export async function glance(server: TestServer): Promise<{ token: string; imageUrl: string; computeUrl: string }> {
  const res = await fetch(`${server.baseUrl}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(passwordAuthBody(server.admin)),
  });
  assert.equal(res.status, 201);
  const body = (await res.json()) as {
    token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] };
  };
  const url = (type: string) =>
    body.token.catalog
      .find((s) => s.type === type)!
      .endpoints.find((e) => e.interface === 'public')!
      .url.replace(/\/+$/, '');
  return { token: res.headers.get('x-subject-token')!, imageUrl: url('image'), computeUrl: url('compute') };
}

export async function imagesNamed(
  g: { token: string; imageUrl: string },
  name: string,
): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${g.imageUrl}/v2/images?name=${encodeURIComponent(name)}`, {
    headers: { 'x-auth-token': g.token },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { images: Record<string, unknown>[] }).images;
}

/** A planted (unsealed) Debian-looking ext4 as qcow2 with a virtual size of 1100 MiB (min_disk must round up to 2). */
export function plantedQcow2(dir: string, name: string): string {
  const tree = join(dir, `${name}-tree`);
  plantTree(tree);
  const raw = join(dir, `${name}.raw`);
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-L', 'gureum-root', '-d', tree, '-F', raw, '48M']);
  const q = join(dir, `${name}.qcow2`);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, q]);
  execFileSync('qemu-img', ['resize', '-f', 'qcow2', q, '1100M'], { stdio: 'ignore' });
  rmSync(raw);
  return q;
}

/** Skips (fails under CI) unless root and the tools `gureum image build` uses are here. */
export function requireBuildTools(t: TestContext): boolean {
  return (
    requireRoot(t, 'needs root (gureum image build runs debootstrap)') &&
    requireCommands(t, ['debootstrap', 'guestfish', 'virt-customize', 'mke2fs', 'qemu-img'])
  );
}

/** Where the debian-12 base-tree cache lives. */
function buildCachePath(): string {
  const recipe = loadRecipe('debian-12');
  return join(defaultCacheDir(), `${recipe.release}-${packagesKey(recipe, findMirror(recipe.release))}-base.tar`);
}

let building: Promise<void> | undefined;

/**
 * The debian-12 build cache, built once if missing (a cold build downloads the distribution from the machine's
 * configured Debian mirror: ~3-4 minutes, then cached under ~/.cache/gureum), so a fresh CI machine builds it.
 * Call requireBuildTools first. Rejects when the build fails: that is a product failure, never a skip.
 */
export function ensureBuildCache(): Promise<void> {
  const path = buildCachePath();
  if (existsSync(path)) return Promise.resolve();
  building ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gureum-cache-build-')), 'warmup.qcow2');
    try {
      const r = await gureum(['image', 'build', 'debian-12', '--output', out]);
      if (r.code !== 0)
        throw new Error(`gureum image build debian-12 failed (exit ${r.code}): ${r.stderr.slice(-800)}`);
      if (!existsSync(path)) throw new Error(`gureum image build finished but left no cache at ${path}`);
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  })();
  return building;
}
