// Runs the privileged tools of the Linux data plane (ip, nft, dnsmasq) as argument arrays, never through a shell.
import { spawn } from 'node:child_process';

/** A command that exited non-zero; the message carries the command and its stderr. */
export class NetCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
  }
}

/** Runs `cmd args...`, feeding `input` on stdin; resolves with stdout, rejects with NetCommandError. */
export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', (e) => reject(new NetCommandError([cmd, ...args], null, e.message)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new NetCommandError([cmd, ...args], code, err))));
    if (child.stdin) {
      // A command that exits before reading its input must fail by its exit code, not by EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** `ip ARGS`, optionally inside a namespace. */
export function ip(args: string[], netns?: string): Promise<string> {
  return run('ip', netns ? ['-netns', netns, ...args] : args);
}

/** `ip` that ignores "already there" / "not there" answers: for idempotent creates and deletes. */
export async function ipQuiet(args: string[], netns?: string): Promise<void> {
  try {
    await ip(args, netns);
  } catch (e) {
    if (
      e instanceof NetCommandError &&
      /File exists|Cannot find device|does not exist|No such|not found|Cannot find/i.test(e.stderr)
    )
      return;
    throw e;
  }
}

/**
 * Runs many `ip` commands in one process (`ip -batch -`), the cheap way to wire a port. `-force` goes on after errors.
 */
export function ipBatch(lines: string[][], netns?: string, force = false): Promise<string> {
  const args = [...(netns ? ['-netns', netns] : []), ...(force ? ['-force'] : []), '-batch', '-'];
  return run('ip', args, lines.map((l) => l.map(quoteBatch).join(' ')).join('\n') + '\n');
}

/** `ip -batch` splits on blanks and understands double quotes; our names never hold either, quotes are a guard. */
function quoteBatch(arg: string): string {
  return /[\s"\\]/.test(arg) ? `"${arg.replace(/(["\\])/g, '\\$1')}"` : arg;
}

/** `nft -f -` with a whole batch: the kernel applies it atomically or not at all. */
export function nftBatch(text: string, netns?: string): Promise<string> {
  return netns ? run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], text) : run('nft', ['-f', '-'], text);
}

/** Runs a command inside a namespace (`ip netns exec NS cmd args`). */
export function inNetns(netns: string, cmd: string, args: string[], input?: string): Promise<string> {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], input);
}
