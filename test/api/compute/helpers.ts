// Shared steps for the compute API tests: an image to boot, the private network, waiting for a status.
import type { TestCloud } from '../../helpers/cloud.js';

export const V = '/compute/v2.1';

/** Uploads a small public raw image; returns its id. */
export async function makeImage(
  c: TestCloud,
  opts: { minDisk?: number; minRam?: number; name?: string } = {},
): Promise<string> {
  const res = await c.request('POST', '/image/v2/images', {
    token: c.adminToken,
    body: {
      name: opts.name ?? 'tiny',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
      min_disk: opts.minDisk ?? 0,
      min_ram: opts.minRam ?? 0,
    },
  });
  if (res.status !== 201) throw new Error(`image create: ${res.status} ${res.text}`);
  const id = res.json.id as string;
  const up = await c.request('PUT', `/image/v2/images/${id}/file`, {
    token: c.adminToken,
    payload: Buffer.alloc(4096, 7),
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (up.status !== 204) throw new Error(`image upload: ${up.status} ${up.text}`);
  return id;
}

/** The id of the bootstrap "private" network. */
export async function privateNet(c: TestCloud): Promise<string> {
  const res = await c.request('GET', '/network/v2.0/networks?name=private', { token: c.adminToken });
  return res.json.networks[0].id as string;
}

/** Polls the server until its status is `status` (or it is gone, for "DELETED"). */
export async function waitFor(
  c: TestCloud,
  token: string,
  id: string,
  status: string,
  timeoutMs = 10_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await c.request('GET', `${V}/servers/${id}`, { token });
    if (status === 'DELETED' && res.status === 404) return null;
    last = res.json?.server;
    if (last && last.status === status && last['OS-EXT-STS:task_state'] === null) return last;
    if (last?.status === 'ERROR' && status !== 'ERROR')
      throw new Error(`server ${id} went to ERROR: ${JSON.stringify(last.fault)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server ${id} did not reach ${status}; last ${JSON.stringify(last)?.slice(0, 300)}`);
}

/** Counts rows that must not be left behind by a refused create. */
export async function leftovers(
  c: TestCloud,
): Promise<{ instances: number; ports: number; usage: number; tasks: number }> {
  const db = c.controller.store.db;
  const inst = await db
    .selectFrom('compute_instances')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('deleted', '=', 0)
    .executeTakeFirstOrThrow();
  const tasks = await db
    .selectFrom('compute_tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const usage = await db
    .selectFrom('compute_usages')
    .select((eb) => eb.fn.sum<number>('instances').as('n'))
    .executeTakeFirst();
  const ports = await c.request('GET', '/network/v2.0/ports?device_owner=compute:nova', { token: c.adminToken });
  return {
    instances: Number(inst.n),
    ports: ports.json.ports.length,
    usage: Number(usage?.n ?? 0),
    tasks: Number(tasks.n),
  };
}
