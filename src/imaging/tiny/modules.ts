// Kernel modules for the initramfs: the cloud kernel ships no modules.dep inside our image, so the load
// order is computed here from each module's own `depends=` field (its .modinfo section).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the tiny guest loads, by module name: virtio PCI/MMIO transports, NIC, disk, RNG, CD-ROM, power button. */
export const TINY_MODULES = [
  'virtio_pci',
  'virtio_mmio',
  'virtio_net',
  'virtio_blk',
  'virtio_rng',
  'virtio_console',
  'isofs',
  'button',
  'evdev',
] as const;

/** A module's name (dashes become underscores, as the kernel names them). */
export function moduleName(file: string): string {
  return file.replace(/\.ko$/, '').replace(/-/g, '_');
}

/** The `depends=` list of a .ko file's modinfo (empty when it depends on nothing). */
export function moduleDepends(ko: Buffer): string[] {
  const key = Buffer.from('\0depends=');
  const at = ko.indexOf(key);
  if (at < 0) return [];
  const start = at + key.length;
  const end = ko.indexOf(0, start);
  const text = ko.toString('latin1', start, end);
  return text
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** Every .ko below `dir`, by module name. */
export function indexModules(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ko')) out.set(moduleName(e.name), p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The wanted modules and everything they depend on, ordered so each comes after its dependencies
 * (ties keep the order of `wanted`, then dependency order), as `insmod` needs them.
 */
export function moduleLoadOrder(wanted: readonly string[], depsOf: (name: string) => string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const d of depsOf(name)) visit(d, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const w of wanted) visit(w, []);
  return order;
}

/** Resolves the wanted modules in an unpacked kernel's module tree: [name, path] in load order. */
export function resolveModules(moduleDir: string, wanted: readonly string[]): { name: string; path: string }[] {
  const index = indexModules(moduleDir);
  const pathOf = (name: string) => {
    const p = index.get(name);
    if (!p) throw new Error(`kernel module ${name} not found under ${moduleDir}`);
    return p;
  };
  const cache = new Map<string, string[]>();
  const depsOf = (name: string) => {
    let d = cache.get(name);
    if (!d) cache.set(name, (d = moduleDepends(readFileSync(pathOf(name)))));
    return d;
  };
  return moduleLoadOrder(wanted, depsOf).map((name) => ({ name, path: pathOf(name) }));
}
