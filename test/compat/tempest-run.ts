// Runs Tempest against a fresh `gureum up` and reports: `npm run test:tempest -- [REGEX] [options]`.
//
//   REGEX                 tests to run (default: ^tempest\.api\.identity\.)
//   --list FILE           run exactly the test ids listed in FILE (one per line, # comments)
//   --exclude REGEX       leave out matching tests
//   --json FILE           write a JSON summary
//   --strict              exit 1 when a test failed, none passed, or (with --list) a listed id did not run and
//                         pass; the ids that did not are printed (default: exit 0, it is a report)
//   --concurrency N       tempest workers (default 2); --serial for one
//   --timeout SECONDS     stop tempest after this long (default 1800)
//   --database-url URL    run the server on PostgreSQL
//   --verbose             print all of tempest's output, not just the result lines
//
// Everything is kept in .tempest/workspace-PID (or $GUREUM_TEMPEST_WORKSPACE): etc/tempest.conf, tempest.log (every
// HTTP request Tempest made), gureum-server.log and tempest-output.txt. The services Tempest treats as available
// come from test/compat/tempest-services.json or env GUREUM_TEMPEST_SERVICES=nova,glance,...
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeTempestSettings } from './tempest-compute.js';
import { startServer, getToken, type TestServer } from '../helpers/server.js';
import { request } from '../helpers/http.js';
import {
  TEMPEST_BIN,
  enabledServices,
  exactTestRegex,
  attachHttpErrors,
  describeCall,
  groupFailures,
  readTempestLog,
  strictVerdict,
  mergeIni,
  parseTempestOutput,
  readTestList,
  tempestSettings,
  tempestServerEnv,
  type TempestResult,
} from '../helpers/tempest.js';

/** The repository root: dist/test/compat/tempest-run.js -> ../../.. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SERVICES_JSON = join(ROOT, 'test', 'compat', 'tempest-services.json');
const DEFAULT_REGEX = '^tempest\\.api\\.identity\\.';

interface Options {
  regex?: string;
  list?: string;
  exclude?: string;
  json?: string;
  strict: boolean;
  concurrency: number;
  timeoutSec: number;
  databaseUrl?: string;
  verbose: boolean;
}

function usage(): never {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const header = text
    .split('\n')
    .filter((l) => l.startsWith('//'))
    .slice(0, 16);
  console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { strict: false, concurrency: 2, timeoutSec: 1800, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--list':
        opts.list = next();
        break;
      case '--exclude':
        opts.exclude = next();
        break;
      case '--json':
        opts.json = next();
        break;
      case '--strict':
        opts.strict = true;
        break;
      case '--concurrency':
        opts.concurrency = Number(next());
        break;
      case '--serial':
        opts.concurrency = 1;
        break;
      case '--timeout':
        opts.timeoutSec = Number(next());
        break;
      case '--database-url':
        opts.databaseUrl = next();
        break;
      case '--verbose':
        opts.verbose = true;
        break;
      case '-h':
      case '--help':
        usage(); // exits the process
        break;
      default:
        if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
        if (opts.regex) throw new Error(`one REGEX only (got "${opts.regex}" and "${arg}")`);
        opts.regex = arg;
    }
  }
  if (opts.regex && opts.list) throw new Error('give REGEX or --list FILE, not both');
  if (!opts.regex && !opts.list) opts.regex = DEFAULT_REGEX;
  return opts;
}

function say(message: string): void {
  console.log(`tempest-run: ${message}`);
}

/** `tempest init` into a fresh .tempest/workspace with its own workspace registry file. */
function initWorkspace(): string {
  const base = join(ROOT, '.tempest');
  // One workspace per run (env GUREUM_TEMPEST_WORKSPACE names it) so concurrent runs never share files.
  const name = process.env.GUREUM_TEMPEST_WORKSPACE || `workspace-${process.pid}`;
  const workspace = join(base, name);
  const registry = join(base, `${name}.yaml`);
  rmSync(workspace, { recursive: true, force: true });
  rmSync(registry, { force: true });
  mkdirSync(base, { recursive: true });
  const res = spawnSync(TEMPEST_BIN, ['init', '--workspace-path', registry, '--name', 'gureum', workspace], {
    encoding: 'utf8',
    cwd: base,
  });
  if (res.status !== 0) throw new Error(`tempest init failed: ${res.stderr || res.stdout || res.error?.message}`);
  return workspace;
}

/** Runs tempest, streaming result lines; resolves with the whole output. */
function runTempest(
  workspace: string,
  args: string[],
  opts: Options,
): Promise<{ output: string; code: number | null }> {
  return new Promise((resolvePromise) => {
    const outFile = createWriteStream(join(workspace, 'tempest-output.txt'));
    const child = spawn(TEMPEST_BIN, args, {
      cwd: workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONWARNINGS: 'ignore' },
    });
    let output = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      outFile.write(chunk);
      if (opts.verbose) {
        process.stdout.write(text);
        return;
      }
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (/^\{\d+\} /.test(line)) console.log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      say(`timeout after ${opts.timeoutSec} s: stopping tempest`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, opts.timeoutSec * 1000);
    const stopOnSignal = () => child.kill('SIGTERM');
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
      outFile.end();
      resolvePromise({ output, code });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      output += `\n${err.message}\n`;
      outFile.end();
      resolvePromise({ output, code: null });
    });
  });
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`tempest-run: ${(err as Error).message}`);
    return 2;
  }
  if (!existsSync(TEMPEST_BIN)) {
    console.error(`tempest-run: ${TEMPEST_BIN} is missing (node scripts/prepare.mjs --for tempest installs it)`);
    return 1;
  }
  const services = enabledServices(SERVICES_JSON);
  const started = Date.now();
  const workspace = initWorkspace();
  say(`workspace ${workspace}`);

  let server: TestServer | undefined;
  const stopServer = async () => {
    if (server) await server.stop();
    server = undefined;
  };
  try {
    server = await startServer({
      logFile: join(workspace, 'gureum-server.log'),
      databaseUrl: opts.databaseUrl,
      env: tempestServerEnv(),
    });
  } catch (err) {
    console.error(`tempest-run: the server did not start: ${(err as Error).message}`);
    return 1;
  }
  say(`server ${server.baseUrl} (services for tempest: identity${services.map((s) => `, ${s}`).join('')})`);

  const confPath = join(workspace, 'etc', 'tempest.conf');
  const settings = tempestSettings({
    baseUrl: server.baseUrl,
    admin: server.admin,
    regionName: server.regionName,
    services,
  });
  if (services.includes('neutron')) {
    // [network]: the external network for floating IPs and router gateways, and the extensions the server lists.
    const token = await getToken(server.baseUrl, server.admin);
    const nets = await request('GET', `${server.baseUrl}/network/v2.0/networks?router:external=true&name=public`, {
      token,
    });
    const exts = await request('GET', `${server.baseUrl}/network/v2.0/extensions`, { token });
    settings.network = { public_network_id: nets.body?.networks?.[0]?.id ?? '', floating_network_name: 'public' };
    settings['network-feature-enabled'] = {
      api_extensions: (exts.body?.extensions ?? []).map((e: { alias: string }) => e.alias).join(','),
      ipv6_subnet_attributes: 'true',
      port_security: 'true',
    };
  }
  if (services.includes('nova')) Object.assign(settings, await computeTempestSettings(server));
  writeFileSync(confPath, mergeIni(readFileSync(confPath, 'utf8'), settings));
  chmodSync(confPath, 0o600); // it holds the admin password

  const args = ['run', '--concurrency', String(opts.concurrency)];
  let selection: string;
  let listed: string[] | undefined;
  if (opts.list) {
    const ids = readTestList(readFileSync(resolve(opts.list), 'utf8'));
    if (ids.length === 0) {
      console.error(`tempest-run: ${opts.list} lists no tests`);
      await stopServer();
      return 1;
    }
    const includeFile = join(workspace, 'include-list.txt');
    writeFileSync(includeFile, `${ids.map(exactTestRegex).join('\n')}\n`);
    args.push('--include-list', includeFile);
    selection = `${ids.length} tests from ${opts.list}`;
    listed = ids;
  } else {
    args.push('--regex', opts.regex!);
    selection = `--regex ${opts.regex}`;
  }
  if (opts.exclude) args.push('--exclude-regex', opts.exclude);
  say(`tempest ${args.join(' ')}`);

  const { output, code } = await runTempest(workspace, args, opts);
  await stopServer();
  const { results, totals } = parseTempestOutput(output);
  const count = (s: TempestResult['status']) => results.filter((r) => r.status === s).length;
  const passed = count('passed');
  const failed = count('failed');
  const skipped = count('skipped');
  if (totals.ran !== undefined && totals.ran !== results.length) {
    say(`note: tempest reported ${totals.ran} tests, ${results.length} result lines were read`);
  }
  if (results.length === 0) {
    say(`no results read (tempest exit ${code}); the end of its output:`);
    console.log(output.split('\n').slice(-30).join('\n'));
  }

  const httpLog = [join(workspace, 'tempest.log'), join(workspace, 'logs', 'tempest.log')].find((p) => existsSync(p));
  if (httpLog) attachHttpErrors(results, readTempestLog(readFileSync(httpLog, 'utf8')));
  const groups = groupFailures(results);
  if (failed > 0) {
    console.log('\nFailed tests:');
    for (const r of results.filter((x) => x.status === 'failed')) console.log(`  ${r.name}`);
    console.log('\nFailures by cause:');
    for (const g of groups) {
      console.log(`  ${g.tests.length} x ${g.cause}`);
      for (const name of g.tests.slice(0, 3)) console.log(`      ${name}`);
      if (g.tests.length > 3) console.log(`      ... and ${g.tests.length - 3} more`);
      const example = results.find((r) => r.name === g.tests[0] && r.http);
      if (example?.http) console.log(`      e.g. ${describeCall(example.http)}`);
    }
    console.log(`\nDetails: ${join(workspace, 'tempest-output.txt')}; HTTP log: ${httpLog ?? '(none)'}`);
  }
  const verdict = strictVerdict(results, listed);
  for (const id of verdict.notRun) console.log(`listed but did not run: ${id}`);
  for (const id of verdict.skipped) console.log(`listed but skipped: ${id}`);
  console.log(
    `tempest: ${passed} passed, ${failed} failed, ${skipped} ` +
      `skipped${listed ? `, ${verdict.notRun.length} listed did not run` : ''}`,
  );

  if (opts.json) {
    const summary = {
      selection,
      services,
      passed,
      failed,
      skipped,
      listedNotRun: verdict.notRun,
      tempestTotals: totals,
      tempestExitCode: code,
      seconds: Math.round((Date.now() - started) / 1000),
      workspace,
      failuresByCause: groups,
      results: results.map(({ detail, ...rest }) => (rest.status === 'failed' ? { ...rest, detail } : rest)),
    };
    mkdirSync(dirname(resolve(opts.json)), { recursive: true });
    writeFileSync(resolve(opts.json), `${JSON.stringify(summary, null, 2)}\n`);
    say(`summary written to ${opts.json}`);
  }

  if (!opts.strict) return 0;
  if (verdict.ok) return 0;
  if (verdict.failed.length > 0) console.error(`tempest-run: --strict: ${verdict.failed.length} test(s) failed`);
  if (verdict.nonePassed) console.error('tempest-run: --strict: no test passed');
  if (verdict.notRun.length + verdict.skipped.length > 0) {
    console.error(
      `tempest-run: --strict: ${verdict.notRun.length} listed id(s) did not run, ${verdict.skipped.length} were ` +
        `skipped (listed above)`,
    );
  }
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
