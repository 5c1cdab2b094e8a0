/** A tiny flag parser: `--name value`, `--name=value` and boolean `--flag`. No dependency, no surprises. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string> = new Set()): ParsedArgs {
  const out: ParsedArgs = { command: undefined, positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq === -1 ? undefined : eq);
      if (eq !== -1) out.flags[name] = a.slice(eq + 1);
      else if (booleanFlags.has(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) out.flags[name] = true;
      else out.flags[name] = argv[++i]!;
    } else if (out.command === undefined) {
      out.command = a;
    } else {
      out.positionals.push(a);
    }
  }
  return out;
}

/** A flag's string value, or undefined; a bare boolean flag where a value is needed is an error. */
export function stringFlag(flags: ParsedArgs['flags'], name: string): string | undefined {
  const v = flags[name];
  if (v === true) throw new Error(`--${name} needs a value`);
  return v;
}
