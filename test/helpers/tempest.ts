// Tempest support: tempest.conf for a test server, the selection file, and reading `tempest run` output.
import { existsSync, readFileSync } from 'node:fs';
import type { Credentials } from './server.js';

/** Debian's tempest entry point (runs on Debian's Python). */
export const TEMPEST_BIN = '/usr/bin/tempest';

/** tempest.conf's [service_available] flags, with the API names they stand for. */
export const SERVICE_FLAGS: Record<string, string> = {
  nova: 'compute',
  glance: 'image',
  neutron: 'network',
  cinder: 'volume',
  swift: 'object-storage',
  horizon: 'dashboard',
};

/** Normalizes a service name (`compute` or `nova`) to its [service_available] flag, or null. */
export function serviceFlag(name: string): string | null {
  const n = name.trim().toLowerCase();
  if (n in SERVICE_FLAGS) return n;
  const hit = Object.entries(SERVICE_FLAGS).find(([, api]) => api === n);
  return hit ? hit[0] : null;
}

/**
 * The services Tempest should treat as available: env GUREUM_TEMPEST_SERVICES (comma separated)
 * wins, else the JSON file (a list, or an object with an `enabled` list).
 */
export function enabledServices(jsonPath: string, env = process.env): string[] {
  let names: string[] = [];
  if (env.GUREUM_TEMPEST_SERVICES !== undefined) {
    names = env.GUREUM_TEMPEST_SERVICES.split(',').filter((s) => s.trim() !== '');
  } else if (existsSync(jsonPath)) {
    const doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as unknown;
    const list = Array.isArray(doc) ? doc : (doc as { enabled?: unknown }).enabled;
    if (!Array.isArray(list)) throw new Error(`${jsonPath}: expected a list or {"enabled": [...]}`);
    names = list.map(String);
  }
  const flags = names.map((n) => {
    const flag = serviceFlag(n);
    if (!flag)
      throw new Error(`unknown service "${n}" (one of ${Object.keys(SERVICE_FLAGS).join(', ')} or their API names)`);
    return flag;
  });
  return [...new Set(flags)];
}

/** Sections of an INI file: section -> key -> value. */
export type IniOverrides = Record<string, Record<string, string>>;

/** What tempest.conf is written from. */
export interface TempestTarget {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  admin: Credentials;
  regionName: string;
  /** [service_available] flags that are true (see {@link SERVICE_FLAGS}). */
  services: string[];
}

/**
 * Security-compliance settings the Tempest run turns on in both places: the server (env) and tempest.conf,
 * so Tempest's lockout and password-history tests run instead of skipping. Kept small: Tempest sleeps for the lockout.
 */
export const COMPLIANCE = { lockoutFailureAttempts: 2, lockoutDurationSeconds: 5, uniqueLastPasswordCount: 2 };

/** Environment for the server under Tempest. */
export function tempestServerEnv(): Record<string, string> {
  return {
    // Tempest's compute API tests run on the fake driver (issue 5); real guests are tested in test/e2e.
    GUREUM_HYPERVISOR: process.env.GUREUM_HYPERVISOR ?? 'fake',
    GUREUM_LOCKOUT_FAILURE_ATTEMPTS: String(COMPLIANCE.lockoutFailureAttempts),
    GUREUM_LOCKOUT_DURATION: String(COMPLIANCE.lockoutDurationSeconds),
    GUREUM_UNIQUE_LAST_PASSWORD_COUNT: String(COMPLIANCE.uniqueLastPasswordCount),
  };
}

/** The tempest.conf settings for a Gureum server (option names from tempest/config.py, tempest 33). */
export function tempestSettings(target: TempestTarget): IniOverrides {
  const on = (flag: string) => String(target.services.includes(flag));
  return {
    auth: {
      admin_username: target.admin.username,
      admin_password: target.admin.password,
      admin_project_name: target.admin.projectName,
      admin_domain_name: target.admin.domainName,
      admin_user_domain_name: target.admin.domainName,
      admin_project_domain_name: target.admin.projectDomainName ?? target.admin.domainName,
      use_dynamic_credentials: 'true',
      // Per-project networks, subnets and routers only make sense once Neutron is on.
      create_isolated_networks: on('neutron'),
    },
    identity: {
      uri_v3: `${target.baseUrl}/identity/v3`,
      auth_version: 'v3',
      region: target.regionName,
      // The default, adminURL, is deprecated; Gureum's catalog is built around public endpoints.
      v3_endpoint_type: 'public',
      admin_role: 'admin',
      default_domain_id: 'default',
      user_lockout_failure_attempts: String(COMPLIANCE.lockoutFailureAttempts),
      user_lockout_duration: String(COMPLIANCE.lockoutDurationSeconds),
      user_unique_last_password_count: String(COMPLIANCE.uniqueLastPasswordCount),
    },
    'identity-feature-enabled': {
      trust: 'true',
      application_credentials: 'true',
      access_rules: 'true',
      project_tags: 'true',
      security_compliance: 'true',
      api_v2: 'false',
      api_v3: 'true',
      domain_specific_drivers: 'false',
    },
    service_available: Object.fromEntries(Object.keys(SERVICE_FLAGS).map((flag) => [flag, on(flag)])),
    'image-feature-enabled': { import_image: 'true', os_glance_reserved: 'true' },
    // Cinder: what the file backend offers (backups to the local backup store; groups, manage/unmanage, revert and
    // multiattach are not there yet).
    volume: {
      catalog_type: 'volumev3',
      min_microversion: '3.0',
      max_microversion: '3.64',
      volume_size: '1',
      build_timeout: '120',
      // What the file backend reports (get_pools, capabilities); Tempest puts them in volume types' extra specs.
      vendor_name: 'Gureum',
      storage_protocol: 'file',
    },
    'volume-feature-enabled': {
      backup: 'true',
      snapshot: 'true',
      clone: 'true',
      manage_snapshot: 'false',
      manage_volume: 'false',
      extend_attached_volume: 'true',
      extend_volume_with_snapshot: 'true',
      multi_backend: 'false',
      consistency_group: 'false',
      volume_revert: 'false',
      cluster_active_active: 'false',
    },
    validation: { run_validation: 'false' },
  };
}

/** Applies `overrides` to the INI text, keeping its other sections, keys and comments. */
export function mergeIni(text: string, overrides: IniOverrides): string {
  const lines = text.split(/\r?\n/);
  const pending = new Map(Object.entries(overrides).map(([s, kv]) => [s, new Map(Object.entries(kv))]));
  const out: string[] = [];
  let section: string | null = null;
  const flush = () => {
    const rest = section ? pending.get(section) : undefined;
    if (!rest) return;
    // Insert before the section's trailing blank lines.
    let at = out.length;
    while (at > 0 && out[at - 1]!.trim() === '') at--;
    out.splice(at, 0, ...[...rest].map(([k, v]) => `${k} = ${v}`));
    pending.delete(section!);
  };
  for (const line of lines) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      flush();
      section = header[1]!;
      out.push(line);
      continue;
    }
    const kv = /^\s*([^=#;\s][^=]*?)\s*=/.exec(line);
    const rest = section ? pending.get(section) : undefined;
    if (kv && rest?.has(kv[1]!)) {
      out.push(`${kv[1]} = ${rest.get(kv[1]!)}`);
      rest.delete(kv[1]!);
      continue;
    }
    out.push(line);
  }
  flush();
  for (const [name, rest] of pending) {
    if (out.length > 0 && out[out.length - 1]!.trim() !== '') out.push('');
    out.push(`[${name}]`, ...[...rest].map(([k, v]) => `${k} = ${v}`), '');
  }
  return out.join('\n');
}

/** Test ids from a list file: one per line, `#` comments; `[id-...,smoke]` attributes dropped. */
export function readTestList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.replace(/\[.*\]$/, ''));
}

/** A regex matching exactly one test id with or without its attributes, for --include-list. */
export function exactTestRegex(id: string): string {
  return `^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\[|$)`;
}

/** One test's outcome as `tempest run` printed it. */
export interface TempestResult {
  /** Test id without attributes; `setUpClass (tempest.api....Class)` for class fixtures. */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Seconds, when printed. */
  seconds?: number;
  /** Skip reason, or the exception line(s) that ended a failure. */
  reason?: string;
  /** The captured traceback of a failure. */
  detail?: string;
  /** The last Tempest service-client method in the traceback, e.g. `identity/v3/users_client.update_user`. */
  apiCall?: string;
  /** The test's last HTTP exchange that got a 4xx/5xx, from tempest.log (see {@link attachHttpErrors}). */
  http?: HttpCall;
}

/** One request Tempest logged in tempest.log. */
export interface HttpCall {
  status: number;
  method: string;
  url: string;
  requestBody?: string;
  responseBody?: string;
}

/**
 * Reads tempest.log's `Request (Class:test): STATUS METHOD URL` lines and the request and response
 * bodies logged after them, keyed by `Class:test` (`Class:setUpClass` for class fixtures).
 */
export function readTempestLog(text: string): Map<string, HttpCall[]> {
  const calls = new Map<string, HttpCall[]>();
  let last: HttpCall | null = null;
  let bodies = 0;
  for (const line of text.split('\n')) {
    const m = /Request \(([\w]+):([\w]+)\): (\d{3}) ([A-Z]+) (\S+)/.exec(line);
    if (m) {
      last = { status: Number(m[3]), method: m[4]!, url: m[5]! };
      bodies = 0;
      const key = `${m[1]}:${m[2]}`;
      calls.set(key, [...(calls.get(key) ?? []), last]);
      continue;
    }
    const body = /^\s+Body: (.*)$/.exec(line);
    if (last && body) {
      const text = body[1]!
        .replace(/ _log_request_full \S+$/, '')
        .replace(/^b'(.*)'$/, '$1')
        .slice(0, 1500);
      if (bodies === 0) last.requestBody = text;
      else last.responseBody = text;
      bodies++;
    } else if (/^\s*\d{4}-\d\d-\d\d /.test(line) && !line.includes('Request - Headers')) {
      last = null;
    }
  }
  return calls;
}

/** Gives each failed result without one its last 4xx/5xx exchange from tempest.log, when there is one. */
export function attachHttpErrors(results: TempestResult[], log: Map<string, HttpCall[]>): void {
  for (const r of results) {
    if (r.status !== 'failed' || r.http) continue;
    const fixture = /^(setUpClass|tearDownClass) \((.+)\)$/.exec(r.name);
    const parts = (fixture ? fixture[2]! : r.name).split('.');
    const key = fixture
      ? `${parts[parts.length - 1]}:${fixture[1]}`
      : `${parts[parts.length - 2]}:${parts[parts.length - 1]}`;
    const errors = (log.get(key) ?? []).filter((c) => c.status >= 400);
    if (errors.length > 0) r.http = errors[errors.length - 1];
  }
}

/** One line per exchange: `POST /identity/v3/x {"body"} -> 404 {"error": ...}`. */
export function describeCall(call: HttpCall): string {
  const path = call.url.replace(/^https?:\/\/[^/]+/, '');
  const req = call.requestBody && call.requestBody !== 'None' ? ` ${call.requestBody}` : '';
  return `${call.method} ${path}${req} -> ${call.status} ${call.responseBody ?? ''}`.slice(0, 1200);
}

/** Stestr's own totals block at the end of `tempest run`. */
export interface TempestTotals {
  ran?: number;
  passed?: number;
  failed?: number;
  skipped?: number;
}

const RESULT_LINE =
  /^\{(\d+)\} (.+?)(?: \[([\d.]+)s[^\]]*\])? \.\.\. (ok|FAILED|SKIPPED(?::\s*(.*))?|xfail|uxsuccess)\s*$/;

/** Reads the results and totals from the plain-text output of `tempest run` (subunit-trace format). */
export function parseTempestOutput(text: string): { results: TempestResult[]; totals: TempestTotals } {
  const results: TempestResult[] = [];
  let current: TempestResult | null = null;
  let detail: string[] = [];
  const finish = () => {
    if (current && current.status === 'failed' && detail.length > 0) {
      current.detail = detail.join('\n').trim().slice(0, 8000);
      current.reason = failureReason(detail);
      const call = lastApiCall(detail);
      if (call) current.apiCall = call;
      // A failing test's log is captured into the output ("Captured pythonlogging"), not tempest.log.
      const errors = [...readTempestLog(detail.join('\n')).values()].flat().filter((c) => c.status >= 400);
      if (errors.length > 0) current.http = errors[errors.length - 1];
    }
    current = null;
    detail = [];
  };
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour escapes
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/);
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const m = RESULT_LINE.exec(line);
    if (m) {
      finish();
      const word = m[4]!;
      const status = word === 'ok' || word === 'xfail' ? 'passed' : word.startsWith('SKIPPED') ? 'skipped' : 'failed';
      current = { name: m[2]!.replace(/\[[^\]]*\]$/, ''), status };
      if (m[3]) current.seconds = Number(m[3]);
      if (status === 'skipped' && m[5]) current.reason = m[5].trim();
      if (word === 'uxsuccess') current.reason = 'unexpected success';
      results.push(current);
      continue;
    }
    if (/^={5,}/.test(line)) {
      finish();
      // The "Failed N tests - output below" block repeats what was printed already.
      if (/^Totals/.test(lines[i + 1] ?? '')) break;
      continue;
    }
    if (current) detail.push(line);
  }
  finish();
  const totals: TempestTotals = {};
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const ran = /^Ran: (\d+) tests?/.exec(line);
    if (ran) totals.ran = Number(ran[1]);
    const kv = /^ - (Passed|Failed|Skipped): (\d+)/.exec(line);
    if (kv) totals[kv[1]!.toLowerCase() as 'passed' | 'failed' | 'skipped'] = Number(kv[2]);
  }
  return { results, totals };
}

/** The exception text that ends the last traceback in a failure's captured output. */
export function failureReason(detail: string[]): string {
  let lastFile = -1;
  detail.forEach((l, i) => {
    if (/^\s*File "/.test(l)) lastFile = i;
  });
  let body = detail;
  if (lastFile >= 0) {
    // Skip the source line (and a ^^^^ marker line) that follows the last frame.
    let j = lastFile + 1;
    while (j < detail.length && detail[j]!.trim() === '') j++;
    j++;
    while (j < detail.length && /^[\s^~]*$/.test(detail[j]!)) j++;
    body = detail.slice(j);
  }
  const stop = body.findIndex((l) => /^(Captured |~{3,})/.test(l.trim()));
  const kept = (stop >= 0 ? body.slice(0, stop) : body).map((l) => l.trim()).filter((l) => l !== '');
  return (
    kept.join(' ').slice(0, 400) ||
    detail
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-2)
      .join(' ')
      .slice(0, 400)
  );
}

/** The last frame in tempest/lib/services: which API call failed (the traceback has no URL). */
export function lastApiCall(detail: string[]): string | undefined {
  let call: string | undefined;
  for (const line of detail) {
    const m = /tempest\/lib\/services\/(.+?)\.py", line \d+, in (\w+)/.exec(line);
    if (m) call = `${m[1]}.${m[2]}`;
  }
  return call;
}

/** A failure reason with ids, numbers and quoted values blurred, so alike failures group together. */
export function causeKey(reason: string | undefined): string {
  if (!reason) return '(no traceback captured)';
  return reason
    .replace(/[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/tempest-[\w-]+/g, '<name>')
    .replace(/0x[0-9a-f]+/gi, '0x')
    .replace(/\b\d+\.\d+\b|\b\d{4,}\b/g, 'N')
    .slice(0, 200);
}

/** Failures grouped by {@link causeKey}, biggest group first. */
export function groupFailures(results: TempestResult[]): { cause: string; tests: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    if (r.status !== 'failed') continue;
    const key = r.apiCall ? `${causeKey(r.reason)} <- ${r.apiCall}` : causeKey(r.reason);
    groups.set(key, [...(groups.get(key) ?? []), r.name]);
  }
  return [...groups].map(([cause, tests]) => ({ cause, tests })).sort((a, b) => b.tests.length - a.tests.length);
}

/** What --strict found wrong with a run; `ok` only when nothing is. */
export interface StrictVerdict {
  ok: boolean;
  failed: string[];
  /** Listed ids that printed no result at all (renamed, removed, or their class never set up). */
  notRun: string[];
  /** Listed ids that Tempest skipped. */
  skipped: string[];
  /** True when nothing passed (an all-skip or empty run). */
  nonePassed: boolean;
}

/**
 * The --strict verdict: no failures, at least one test passed, and with a list every listed id ran and passed
 * (a renamed test or one Tempest skips must not drop out of the gate unnoticed).
 */
export function strictVerdict(results: readonly TempestResult[], listed?: readonly string[]): StrictVerdict {
  const byName = new Map(results.map((r) => [r.name, r.status]));
  const failed = results.filter((r) => r.status === 'failed').map((r) => r.name);
  const notRun = (listed ?? []).filter((id) => !byName.has(id));
  const skipped = (listed ?? []).filter((id) => byName.get(id) === 'skipped');
  const nonePassed = !results.some((r) => r.status === 'passed');
  return {
    ok: failed.length === 0 && notRun.length === 0 && skipped.length === 0 && !nonePassed,
    failed,
    notRun,
    skipped,
    nonePassed,
  };
}
