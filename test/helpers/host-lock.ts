// A lock shared by every test process on this machine, for tests that must not overlap with each other. The tests
// that make security-group firewalls take it: their tables now keep apart by bridge, but a firewall built by an
// older Gureum on the same host (another checkout) still dispatches by port number alone and would drop their
// packets, and one at a time also keeps their timing-free probes quick on a loaded machine. Held by `flock LOCKFILE
// cat` (util-linux): the lock is ours once cat echoes a line back, and goes when cat's stdin closes, also when the test
// process dies.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Waits for the named host-wide lock; resolves with its release function. */
export function hostLock(name: string): Promise<() => void> {
  const child = spawn('flock', [join(tmpdir(), `gureum-test-${name}.lock`), 'cat'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const release = (): void => {
    child.stdin.end();
  };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`flock exited (${code}) before the lock was taken`)));
    child.stdout.once('data', () => {
      child.removeAllListeners('exit');
      resolve(release);
    });
    child.stdin.write('locked\n');
  });
}
