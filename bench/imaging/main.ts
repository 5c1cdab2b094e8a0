// bench/imaging: seal and audit time on a planted image (and virt-sysprep on a copy of the same image), sizes
// raw / qcow2 / compressed; with GUREUM_BENCH_BUILD=1 also `build debian-12` cold (empty cache) and cached.
// Run: npm run bench -- imaging   (root, libguestfs-tools; the build needs the Debian mirror).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditImage, sealImage } from '../../src/imaging/seal.js';
import { convertImage } from '../../src/imaging/disk-tools.js';
import { buildImage } from '../../src/imaging/build.js';
import { loadRecipe } from '../../src/imaging/recipe.js';
import { guestfsEnv } from '../../src/imaging/guestfish.js';
import { onPath } from '../../src/imaging/tools.js';
import { plantTree } from '../../test/unit/imaging/factory/planted-tree.js';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
async function time<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  console.log(`${label.padEnd(44)} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function main() {
  if (!onPath('guestfish') || process.getuid?.() !== 0) {
    console.log('bench/imaging: skipped (needs root and libguestfs-tools)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gureum-bench-imaging-'));
  try {
    // A planted image: every kind of identity, ext4 made with mke2fs -d.
    const tree = join(dir, 'tree');
    plantTree(tree);
    const raw = join(dir, 'planted.raw');
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-d', tree, '-F', raw, '64M']);
    const sysprepCopy = join(dir, 'sysprep.raw');
    copyFileSync(raw, sysprepCopy);
    const a1 = await time('audit (planted, identity left)', () => auditImage(raw));
    console.log(`  findings: ${a1.findings.length}`);
    const s = await time('seal (planted)', () => sealImage(raw));
    console.log(`  changes: ${s.changes.length}`);
    await time('audit (sealed)', () => auditImage(raw));
    await time('seal again (idempotent, 0 changes)', () => sealImage(raw));
    await time('virt-sysprep (same planted image, copy)', async () => {
      execFileSync('virt-sysprep', ['--format', 'raw', '-a', sysprepCopy], { env: guestfsEnv(), stdio: 'ignore' });
    });
    const a2 = await auditImage(sysprepCopy);
    console.log(
      `  identity left after virt-sysprep by our audit: ${a2.findings.length} ` +
        `(${[...new Set(a2.findings.map((f) => f.op))].join(', ')})`,
    );

    if (process.env.GUREUM_BENCH_BUILD === '1') {
      const recipe = loadRecipe('debian-12');
      const cache = join(dir, 'cache');
      const cold = join(dir, 'cold.raw');
      await time('build debian-12 cold (empty cache, raw)', () =>
        buildImage(recipe, { output: cold, format: 'raw', cacheDir: cache }),
      );
      const cached = join(dir, 'cached.qcow2');
      await time('build debian-12 cached (qcow2 compressed)', () =>
        buildImage(recipe, { output: cached, format: 'qcow2', cacheDir: cache }),
      );
      const plain = join(dir, 'plain.qcow2');
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', cold, plain]);
      const used = Number(execFileSync('du', ['-B1', cold]).toString().split('\t')[0]);
      console.log(
        `sizes: raw ${mib(statSync(cold).size)} virtual (${mib(used)} allocated), qcow2 ` +
          `${mib(statSync(plain).size)}, compressed qcow2 ${mib(statSync(cached).size)}`,
      );
      await time('audit (built debian-12)', () => auditImage(cached));
      await time('seal (built debian-12)', () => sealImage(cached));
      const c = await time('compress (qemu-img convert -c)', () => convertImage(plain, { compress: true }));
      console.log(`  ${mib(c.before.fileBytes)} → ${mib(c.after.fileBytes)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
