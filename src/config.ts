// Loads Gureum's settings once: defaults < gureum.json < environment < flags (< a test's overrides), validated
// against the schema (src/config/schema.ts), deep-frozen. The environment is the start-up snapshot of
// src/config/process-env.ts (the only reader of process.env); every subsystem is handed its own section by the
// composition root.
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { ConfigSchema, defaults, type ConfigLayer, type GureumConfig } from './config/schema.js';
import { ConfigError, ENV_SETTINGS, LEGACY_FILE_KEYS, parseListen } from './config/env.js';
import { processEnv } from './config/process-env.js';

export { defaults, ConfigSchema, SECRET_PATHS, type GureumConfig, type ConfigLayer } from './config/schema.js';
export { ConfigError, ENV_SETTINGS, LEGACY_FILE_KEYS, parseListen } from './config/env.js';

/** Flags understood by `gureum up` that map onto config. */
export interface ConfigFlags {
  listen?: string;
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
  logLevel?: string;
}

/** Where each setting's value came from ("default", "file PATH", "env NAME", "flag --x", ...), by dotted path. */
export type ConfigSources = Map<string, string>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[keys[keys.length - 1]!] = value;
}

type Schema = { properties?: Record<string, Schema>; anyOf?: Schema[] };

/** The object form of a schema (the object variant of `null | {...}`), if it has fixed properties. */
const objectSchema = (schema: Schema | undefined): Schema | undefined =>
  schema?.properties ? schema : schema?.anyOf?.find((s) => s.properties);

/**
 * Sections and other fixed-shape objects merge key by key; anything else (arrays, null, scalars, and maps such as
 * network.vlanRanges, which a layer gives whole) replaces.
 */
function merge(base: unknown, over: unknown, schema: Schema | undefined = ConfigSchema as Schema): unknown {
  const shape = objectSchema(schema);
  if (!isObj(base) || !isObj(over) || !shape?.properties) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = merge(base[k], v, shape.properties[k]);
  return out;
}

/** The dotted paths of every non-object value in a layer. */
function leaves(o: unknown, prefix = ''): string[] {
  if (!isObj(o)) return prefix ? [prefix] : [];
  return Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : leaves(v, prefix ? `${prefix}.${k}` : k)));
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function envLayer(env: Readonly<NodeJS.ProcessEnv>): { layer: Obj; names: Map<string, string> } {
  const layer: Obj = {};
  const names = new Map<string, string>();
  for (const s of ENV_SETTINGS) {
    const text = env[s.env];
    if (text === undefined || text === '' || (s.unless && env[s.unless])) continue;
    const value = s.parse(text);
    if (value === undefined) continue;
    setPath(layer, s.path, value);
    names.set(s.path, `env ${s.env}`);
  }
  return { layer, names };
}

/** gureum.json: sectioned keys, plus the old flat keys (moved to their sections), "HOST:PORT" for listen. */
function fileLayer(file: string): Obj {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObj(parsed)) throw new ConfigError(`${file}: expected a JSON object`);
  const layer: Obj = {};
  for (const [k, v] of Object.entries(parsed)) {
    const legacy = LEGACY_FILE_KEYS[k];
    if (legacy) setPath(layer, legacy, v);
    else layer[k] = v;
  }
  const server = layer.server;
  if (isObj(server) && typeof server.listen === 'string') server.listen = parseListen(server.listen);
  return layer;
}

/** Checks a merged config against the schema; the first problem becomes one line naming the key and its source. */
function validate(cfg: unknown, sources: ConfigSources): asserts cfg is GureumConfig {
  const first = Value.Errors(ConfigSchema, cfg).First();
  if (!first) return;
  const path = first.path.split('/').filter(Boolean).join('.');
  const from = sourceOf(sources, path);
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    throw new ConfigError(`unknown setting "${path}"${from ? ` (in ${from.replace(/^file /, '')})` : ''}`);
  }
  const schema = first.schema as { anyOf?: { const?: unknown }[] };
  const want = schema.anyOf?.every((s) => s.const !== undefined)
    ? `one of ${schema.anyOf.map((s) => s.const).join(', ')}`
    : first.message;
  throw new ConfigError(
    `setting "${path}"${from ? ` (from ${from})` : ''}: ${want}; got ${JSON.stringify(first.value)}`,
  );
}

function sourceOf(sources: ConfigSources, path: string): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s) return s;
  }
  return undefined;
}

/** Applies layers in order over the defaults, recording for every leaf which layer set it last. */
function build(layers: [string | Map<string, string>, Obj][]): { config: GureumConfig; sources: ConfigSources } {
  const sources: ConfigSources = new Map(leaves(defaults).map((p) => [p, 'default']));
  let merged: unknown = defaults;
  for (const [label, layer] of layers) {
    merged = merge(merged, layer);
    for (const p of leaves(layer)) {
      for (const k of [...sources.keys()]) if (k.startsWith(`${p}.`)) sources.delete(k);
      sources.set(p, typeof label === 'string' ? label : (label.get(p) ?? 'env'));
    }
  }
  const cfg = merged as GureumConfig;
  validate(cfg, sources);
  return { config: cfg, sources };
}

/** Fills what is derived from other settings: the absolute data dir, the public URL from the listen address. */
function derive(cfg: GureumConfig, sources: ConfigSources): GureumConfig {
  const out: GureumConfig = { ...cfg, dataDir: resolve(cfg.dataDir) };
  if (!out.server.publicUrl) {
    const { host: bound, port } = out.server.listen;
    const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
    out.server = { ...out.server, publicUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
    sources.set('server.publicUrl', 'derived from server.listen');
  }
  return out;
}

/** The effective config and where each value came from (for `gureum config show`). */
export function loadConfigWithSources(
  flags: ConfigFlags = {},
  env: Readonly<NodeJS.ProcessEnv> = processEnv,
): { config: GureumConfig; sources: ConfigSources } {
  const fromEnv = envLayer(env);
  const flagLayer: Obj = {};
  const flagNames = new Map<string, string>();
  const flag = (path: string, name: string, value: unknown) => {
    if (value === undefined) return;
    setPath(flagLayer, path, value);
    flagNames.set(path, `flag --${name}`);
  };
  flag('server.listen', 'listen', flags.listen ? parseListen(flags.listen) : undefined);
  flag('dataDir', 'data-dir', flags.dataDir);
  flag('database.url', 'database-url', flags.databaseUrl);
  flag('logging.level', 'log-level', flags.logLevel);

  const dataDir = resolve((flagLayer.dataDir ?? fromEnv.layer.dataDir ?? defaults.dataDir) as string);
  const file = flags.config ?? join(dataDir, 'gureum.json');
  const layers: [string | Map<string, string>, Obj][] = [];
  if (existsSync(file)) layers.push([`file ${file}`, fileLayer(file)]);
  else if (flags.config) throw new ConfigError(`config file ${file} does not exist`);
  layers.push([fromEnv.names, fromEnv.layer], [flagNames, flagLayer]);
  const { config, sources } = build(layers);
  return { config: deepFreeze(derive(config, sources)), sources };
}

/** Loads the config: defaults, then a JSON file (flag --config or DATA_DIR/gureum.json), then env, then flags. */
export function loadConfig(flags: ConfigFlags = {}, env: Readonly<NodeJS.ProcessEnv> = processEnv): GureumConfig {
  return loadConfigWithSources(flags, env).config;
}

/** A loaded config with some settings changed (tests, benchmarks), validated and frozen like the original. */
export function configWith(base: GureumConfig, over: ConfigLayer): GureumConfig {
  const { config } = build([['override', merge(base, over) as Obj]]);
  return deepFreeze(config);
}
