// Runs Debian's stock `openstack` CLI (python3-openstackclient) against a test server.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Credentials } from './server.js';

/** Debian's CLI; the `python3` first on PATH may be another Python without the OpenStack libraries. */
export const OPENSTACK_BIN = '/usr/bin/openstack';
/** Debian's Python, used for the pseudo-terminal that `--password-prompt` insists on. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** True when the stock CLI is installed. */
export function hasOpenstackCli(): boolean {
  return existsSync(OPENSTACK_BIN);
}

/** Who the CLI acts as: the clouds.yaml admin, or explicit password credentials. */
export type CliIdentity =
  | { cloudsYaml: string; cloud?: string }
  | { authUrl: string; credentials: Credentials; regionName?: string }
  | { authUrl: string; applicationCredential: { id: string; secret: string }; regionName?: string };

/** Options for one CLI run. */
export interface CliOptions {
  /** Lines answered, one per prompt ending in ':' (e.g. the password twice for --password-prompt). */
  prompts?: string[];
  /** Kill the CLI after this many milliseconds (default 120 s). */
  timeoutMs?: number;
  /** Add `--debug` (request/response log on stderr). */
  debug?: boolean;
}

/** Outcome of one CLI run. */
export interface CliResult {
  /** Exit status (null when killed). */
  status: number | null;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  command: string;
}

/** Error thrown by {@link openstackJson} when the CLI fails or prints something that is not JSON. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly result: CliResult,
  ) {
    super(message);
  }
}

/** The environment for the CLI: ours without OS_* variables, plus the chosen identity. */
function cliEnv(who: CliIdentity): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OS_')) env[k] = v;
  }
  env.PYTHONWARNINGS = 'ignore';
  if ('cloudsYaml' in who) {
    env.OS_CLIENT_CONFIG_FILE = who.cloudsYaml;
    return env;
  }
  // Keep a clouds.yaml elsewhere on the machine from mixing in.
  env.OS_CLIENT_CONFIG_FILE = '/dev/null';
  env.OS_AUTH_URL = who.authUrl;
  env.OS_IDENTITY_API_VERSION = '3';
  env.OS_REGION_NAME = who.regionName ?? 'RegionOne';
  env.OS_INTERFACE = 'public';
  if ('credentials' in who) {
    const c = who.credentials;
    env.OS_AUTH_TYPE = 'password';
    env.OS_USERNAME = c.username;
    env.OS_PASSWORD = c.password;
    env.OS_PROJECT_NAME = c.projectName;
    env.OS_USER_DOMAIN_NAME = c.domainName;
    env.OS_PROJECT_DOMAIN_NAME = c.projectDomainName ?? c.domainName;
  } else {
    env.OS_AUTH_TYPE = 'v3applicationcredential';
    env.OS_APPLICATION_CREDENTIAL_ID = who.applicationCredential.id;
    env.OS_APPLICATION_CREDENTIAL_SECRET = who.applicationCredential.secret;
  }
  return env;
}

/**
 * Spawns `child` with a pseudo-terminal as its stdin and controlling terminal (getpass reads
 * /dev/tty), stdout and stderr left as pipes. Each time the terminal output ends in ':', the next
 * line from GUREUM_PTY_ANSWERS is typed. Exits with the child's status.
 */
const PTY_HELPER = `
import os, sys, fcntl, termios
answers = os.environ.pop('GUREUM_PTY_ANSWERS', '')
answers = answers.split('\\n') if answers else []
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    os.dup2(slave, 0)
    if slave > 2:
        os.close(slave)
    os.execv(sys.argv[1], sys.argv[1:])
os.close(slave)
pending = b''
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    pending += data
    if answers and pending.rstrip().endswith(b':'):
        os.write(master, answers.pop(0).encode() + b'\\n')
        pending = b''
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Runs `openstack ARGS` as `who`; never throws for a non-zero exit. */
export async function openstack(who: CliIdentity, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env = cliEnv(who);
  const cliArgs = [...args];
  if ('cloudsYaml' in who) cliArgs.unshift('--os-cloud', who.cloud ?? 'gureum');
  if (opts.debug) cliArgs.unshift('--debug');
  let file = OPENSTACK_BIN;
  let argv = cliArgs;
  if (opts.prompts && opts.prompts.length > 0) {
    file = DEBIAN_PYTHON;
    argv = ['-c', PTY_HELPER, OPENSTACK_BIN, ...cliArgs];
    env.GUREUM_PTY_ANSWERS = opts.prompts.join('\n');
  }
  const command = `openstack ${cliArgs.join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 120_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr: `${stderr}${err.message}`, command });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, command });
    });
  });
}

/** Runs `openstack ARGS -f json` and returns the parsed output; throws CliError on failure. */
export async function openstackJson<T = any>(who: CliIdentity, args: string[], opts: CliOptions = {}): Promise<T> {
  const res = await openstack(who, [...args, '-f', 'json'], opts);
  if (res.status !== 0) throw new CliError(`${res.command} exited ${res.status}: ${lastLines(res.stderr)}`, res);
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new CliError(`${res.command} printed no JSON: ${lastLines(res.stdout)} ${lastLines(res.stderr)}`, res);
  }
}

/** Runs `openstack ARGS` and throws CliError unless it exits 0; returns its stdout. */
export async function openstackOk(who: CliIdentity, args: string[], opts: CliOptions = {}): Promise<string> {
  const res = await openstack(who, args, opts);
  if (res.status !== 0) throw new CliError(`${res.command} exited ${res.status}: ${lastLines(res.stderr)}`, res);
  return res.stdout;
}

/** The last few non-empty lines of CLI output (where its error message is). */
export function lastLines(text: string, n = 5): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

/** The HTTP exchanges `--debug` logged last, so a failure shows what the CLI sent and got. */
export function lastExchanges(res: CliResult, n = 4): string {
  const lines = res.stderr.split('\n').filter((l) => /^(REQ: |RESP: |RESP BODY: )/.test(l));
  return lines
    .slice(-n)
    .map((l) => (l.length > 700 ? `${l.slice(0, 700)}...` : l))
    .join('\n');
}

/** Adds the CLI's last HTTP exchanges to a CliError's message. */
export async function explained<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (err) {
    if (err instanceof CliError) err.message += `\n--- last HTTP exchanges ---\n${lastExchanges(err.result)}`;
    throw err;
  }
}
