/** A small, strict parser for `--name value` / `--flag` command lines. */

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ArgSpec {
  /** options that take a value */
  values: readonly string[];
  /** options that take none */
  flags?: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): { values: Record<string, string>; flags: Set<string> } {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.flags?.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      values[name] = v;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { values, flags };
}
