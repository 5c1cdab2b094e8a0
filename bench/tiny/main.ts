// bench/tiny: the default tiny image. Build time cold (empty cache: apt download + build) and cached, image sizes,
// and boot-to-finished under TCG from QEMU start (p50 and max of BENCH_TINY_RUNS, default 10), with the real metadata
// path: an in-process controller, the per-connection guest proxy, HMAC. Env: BENCH_TINY_RUNS, BENCH_TINY_COLD=0 to skip
// the cold build, GUREUM_QEMU_BINARY.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith, loadConfig } from '../../src/config.js';
import { createController } from '../../src/app/index.js';
import { buildTinyImage, FINISHED_MARK, type TinyImage } from '../../src/imaging/tiny/index.js';
import { guestfwdOption } from '../../src/services/metadata/index.js';

const RUNS = Number(process.env.BENCH_TINY_RUNS ?? 10);
const QEMU = process.env.GUREUM_QEMU_BINARY || 'qemu-system-x86_64';
const mib = (p: string) => (statSync(p).size / 1048576).toFixed(2);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-tiny-'));
  try {
    const cache = join(work, 'cache');
    let img: TinyImage;
    let coldMs = NaN;
    if (process.env.BENCH_TINY_COLD !== '0') {
      [img, coldMs] = await timed(() => buildTinyImage(cache));
    } else {
      img = await buildTinyImage(join(tmpdir(), 'gureum-tiny-cache'));
    }
    const [, cachedMs] = await timed(() =>
      buildTinyImage(process.env.BENCH_TINY_COLD !== '0' ? cache : join(tmpdir(), 'gureum-tiny-cache')),
    );
    const info = spawnSync('qemu-img', ['info', '--output=json', img.rootDiskPath], { encoding: 'utf8' });
    const virtual =
      info.status === 0 ? (JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'] / 1048576 : NaN;
    console.log(
      `build: cold ${(coldMs / 1000).toFixed(1)} s (download + build), cached ${(cachedMs / 1000).toFixed(2)} s`,
    );
    console.log(
      `sizes: kernel ${mib(img.kernelPath)} MiB, initramfs ${mib(img.initrdPath)} MiB (gzip), root disk ` +
        `${mib(img.rootDiskPath)} MiB qcow2 (${virtual} MiB virtual)`,
    );

    const base = loadConfig({ dataDir: work, databaseUrl: ':memory:', logLevel: 'silent' }, {});
    const controller = await createController(
      configWith(base, {
        virt: { driver: 'fake' },
        image: { tinyImage: false },
        identity: { passwordHash: { N: 1024, r: 8, p: 1 } },
      }),
      { adminPassword: 'bench-password' },
    );
    try {
      await controller.server.listen({ host: '127.0.0.1', port: 0 });
      const port = (controller.server.server.address() as AddressInfo).port;
      controller.deps.metadata.setControllerUrl(`http://127.0.0.1:${port}`);
      const inject = async (
        method: string,
        url: string,
        body?: unknown,
        headers: Record<string, string> = {},
        payload?: Buffer,
      ) => {
        const r = await controller.server.inject({
          method: method as 'GET',
          url,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { payload: JSON.stringify(body) } : payload ? { payload } : {}),
        });
        return {
          status: r.statusCode,
          headers: r.headers,
          json: r.body
            ? (() => {
                try {
                  return JSON.parse(r.body);
                } catch {
                  return undefined;
                }
              })()
            : undefined,
        };
      };
      const auth = await inject('POST', '/identity/v3/auth/tokens', {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'bench-password' } },
          },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      });
      const token = String(auth.headers['x-subject-token']);
      const im = await inject(
        'POST',
        '/image/v2/images',
        { name: 'blank', disk_format: 'raw', container_format: 'bare' },
        { 'x-auth-token': token },
      );
      await inject(
        'PUT',
        `/image/v2/images/${im.json.id}/file`,
        undefined,
        { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
        Buffer.alloc(4096),
      );
      const srv = await inject(
        'POST',
        '/compute/v2.1/servers',
        { server: { name: 'bench', imageRef: im.json.id, flavorRef: '42', networks: 'none' } },
        { 'x-auth-token': token, 'openstack-api-version': 'compute 2.37' },
      );
      const id = String(srv.json.server.id);
      const fwd = guestfwdOption(controller.deps.metadata.proxyCommand(id));
      const wall: number[] = [];
      const guest: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const log = join(work, `console-${i}.log`);
        const t0 = performance.now();
        const q = spawn(
          QEMU,
          [
            '-accel',
            'tcg',
            '-m',
            '128',
            '-display',
            'none',
            '-no-reboot',
            '-nodefaults',
            '-chardev',
            `file,id=s0,path=${log}`,
            '-serial',
            'chardev:s0',
            '-kernel',
            img.kernelPath,
            '-initrd',
            img.initrdPath,
            '-append',
            img.cmdline,
            '-netdev',
            `user,id=n0,net=169.254.0.0/16,guestfwd=${fwd}`,
            '-device',
            'virtio-net-pci,netdev=n0',
            '-device',
            'virtio-rng-pci',
            '-drive',
            `file=${img.rootDiskPath},if=virtio,format=qcow2,snapshot=on`,
          ],
          { stdio: 'ignore' },
        );
        const re = new RegExp(`${FINISHED_MARK} at ([0-9.]+)s`);
        let m: RegExpExecArray | null = null;
        while (!m && performance.now() - t0 < 120_000 && q.exitCode === null) {
          await new Promise((r) => setTimeout(r, 20));
          m = existsSync(log) ? re.exec(readFileSync(log, 'utf8')) : null;
        }
        const ms = performance.now() - t0;
        q.kill('SIGKILL');
        await new Promise((r) => q.once('exit', r));
        if (!m) throw new Error(`run ${i}: no finished line:\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
        if (process.env.BENCH_TINY_VERBOSE === '1') console.log(readFileSync(log, 'utf8'));
        wall.push(ms);
        guest.push(Number(m[1]) * 1000);
        console.log(`run ${i + 1}: finished ${(ms / 1000).toFixed(2)} s after QEMU start (guest uptime ${m[1]} s)`);
      }
      console.log(
        `boot to finished under TCG (metadata service): p50 ${(p50(wall) / 1000).toFixed(2)} s (max ` +
          `${(Math.max(...wall) / 1000).toFixed(2)} s) from QEMU start, p50 guest uptime ` +
          `${(p50(guest) / 1000).toFixed(2)} s (${RUNS} runs)`,
      );
    } finally {
      await controller.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
