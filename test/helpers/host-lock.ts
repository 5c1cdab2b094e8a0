// A lock shared by every test process on this machine, for tests that must not overlap with each other: the
// security-group firewalls of two clouds on one host still share the packet mark's port numbers (README, known
// gaps), so the tests that run one take this lock. Held by `flock LOCKFILE cat` (util-linux): the lock is ours once
// cat echoes a line back, and goes when cat's stdin closes, also when the test process dies.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Waits for the named host-wide lock; resolves with its release function. */
export function hostLock(name: string): Promise<() => void> {
  const child = spawn('flock', [join(tmpdir(), `gureum-test-${name}.lock`), 'cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const release = (): void => { child.stdin.end(); };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`flock exited (${code}) before the lock was taken`)));
    child.stdout.once('data', () => { child.removeAllListeners('exit'); resolve(release); });
    child.stdin.write('locked\n');
  });
}
