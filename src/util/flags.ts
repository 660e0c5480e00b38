// The command-line flag parser of every focusnet command (train, eval, cam, report).
// `--name value` or `--name=value`; each flag has a kind that converts and checks its
// value; a flag given twice keeps the last value (so a script can append overrides).
// Every error is an ArgError (exit status 2) whose message names the command and the
// flag: an unknown flag, a missing value, a value of the wrong kind.
import { ArgError } from '../errors.js';

export { ArgError };

/**
 * What a flag takes: 'bool' (no value), 'string' (non-empty), 'number' (finite, >= 0),
 * 'int', 'uint' (integer >= 0), 'posint' (integer >= 1), 'list' (comma-separated
 * numbers), or one of a list of words (matched case-insensitively). Numbers are written in
 * decimal (`2`, `-0.5`, `1e-4`): `0x2`, `0b10`, `Infinity` or an empty value are refused.
 */
export type FlagKind = 'bool' | 'string' | 'number' | 'int' | 'uint' | 'posint' | 'list' | readonly string[];
export type FlagSpec = Readonly<Record<string, FlagKind>>;

type ValueOf<K> = K extends 'bool' ? boolean : K extends 'string' ? string : K extends 'list' ? number[] : K extends readonly (infer W)[] ? W : number;
/** The parsed flags: a property per flag given, typed by its kind. */
export type Flags<S extends FlagSpec> = { -readonly [N in keyof S]?: ValueOf<S[N]> };

export interface ParseOptions {
  /** where the messages send the user [focusnet --help] */
  help?: string;
}

/** `--help` or `-h` among the arguments. */
export function helpRequested(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

export function parseFlags<S extends FlagSpec>(cmd: string, args: readonly string[], spec: S, opts: ParseOptions = {}): Flags<S> {
  const see = `see ${opts.help ?? 'focusnet --help'}`;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--') || a.length === 2) throw new ArgError(`focusnet ${cmd}: unexpected argument '${a}' (flags start with --; ${see})`);
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (kind === undefined) throw new ArgError(`focusnet ${cmd}: unknown flag --${name} (${see})`);
    if (kind === 'bool') {
      if (value !== undefined) throw new ArgError(`focusnet ${cmd}: --${name} takes no value`);
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new ArgError(`focusnet ${cmd}: --${name} needs a value`);
    }
    out[name] = convert(cmd, name, kind, value);
  }
  return out as Flags<S>;
}

/** A number in decimal notation: optional sign, digits with an optional fraction, optional exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function convert(cmd: string, name: string, kind: FlagKind, v: string): string | number | number[] {
  const bad = (what: string) => new ArgError(`focusnet ${cmd}: --${name} ${JSON.stringify(v)}: ${what}`);
  if (typeof kind !== 'string') {
    const m = kind.find((k) => k.toLowerCase() === v.toLowerCase());
    if (m === undefined) throw bad(`expected one of ${kind.join(', ')}`);
    return m;
  }
  if (kind === 'string') {
    if (!v) throw bad('must not be empty');
    return v;
  }
  if (kind === 'list') {
    const parts = v.split(',').map((s) => s.trim());
    if (!v.trim() || parts.some((s) => !DECIMAL.test(s))) throw bad('expected comma-separated numbers');
    const xs = parts.map(Number);
    if (xs.some((x) => !Number.isFinite(x))) throw bad('expected comma-separated finite numbers');
    return xs;
  }
  // decimal notation only (Number() would also take '0x2', '0b11', ' 5 ' and 'Infinity')
  if (!DECIMAL.test(v)) throw bad('expected a number');
  const x = Number(v);
  if (!Number.isFinite(x)) throw bad('expected a finite number');
  if (kind !== 'number' && !Number.isInteger(x)) throw bad('expected an integer');
  if (kind === 'posint' && x < 1) throw bad('expected a positive integer');
  if (kind === 'uint' && x < 0) throw bad('expected an integer >= 0');
  if (kind === 'number' && x < 0) throw bad('expected a number >= 0');
  return x;
}

/** Throw an ArgError naming the first of `names` that was not given (after it, they are typed as present). */
export function requireFlags<F extends object, K extends keyof F & string>(
  cmd: string,
  flags: F,
  names: readonly K[],
  opts: ParseOptions = {},
): asserts flags is F & { [P in K]-?: Exclude<F[P], undefined> } {
  for (const n of names) if (flags[n] === undefined) throw new ArgError(`focusnet ${cmd}: --${n} is required (see ${opts.help ?? 'focusnet --help'})`);
}
