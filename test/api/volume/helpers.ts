// Shared steps for the volume API tests: the admin project's URL, waiting for a status, qemu-img presence.
import { execFileSync } from 'node:child_process';
import type { TestCloud } from '../../helpers/cloud.js';

/** True when qemu-img runs (the file backend needs it). */
export function hasQemuImg(): boolean {
  try {
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The project id of a token (from GET /auth/tokens). */
export async function projectOf(c: TestCloud, token: string): Promise<string> {
  const r = await c.request('GET', '/identity/v3/auth/tokens', {
    token: c.adminToken,
    headers: { 'x-subject-token': token },
  });
  return r.json.token.project.id as string;
}

/** Polls a volume (or snapshot) until its status is `status` ("DELETED" waits for 404). */
export async function waitStatus(
  c: TestCloud,
  token: string,
  url: string,
  key: 'volume' | 'snapshot' | 'backup',
  status: string,
  timeoutMs = 20_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const r = await c.request('GET', url, { token });
    if (status === 'DELETED' && r.status === 404) return null;
    last = r.json?.[key];
    if (last?.status === status) return last;
    if (last?.status?.startsWith('error') && !status.startsWith('error'))
      throw new Error(`${url} went to ${last.status}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${url} did not reach ${status}; last ${JSON.stringify(last)?.slice(0, 300)}`);
}
