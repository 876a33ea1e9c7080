/**
 * The host's settings from four places, over one table of options (host-args.ts, HOST_OPTIONS), so a
 * flag added to the table is at once a key of the config file and an environment variable. Each
 * setting comes from the first of: its flag, its environment variable, the config file, its default.
 * A secret may be read from a file (`LANCHAT_<NAME>_FILE`, or `{ file: <path> }` in the config file);
 * `--print-config` shows each setting, masked when secret, with where it came from.
 */
import { isMap, isScalar, LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';

/** The option table's shape, as node:util's parseArgs takes it. */
export type OptionTable = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly default?: string | boolean }>>;

export interface Setting {
  value: string | boolean;
  /** Where it came from, as an operator names it: `--port`, `LANCHAT_PORT`, `lanchat.yaml line 3`, `default`. */
  source: string;
  /** Read from a secret file: never shown. */
  fromFile: boolean;
}

export type Settings = Map<string, Setting>;

/** A setting that is wrong, saying where it came from. */
export class SettingsError extends Error {}

/** The environment variable that sets an option: `max-file-bytes` is LANCHAT_MAX_FILE_BYTES. */
export function envName(option: string): string {
  return `LANCHAT_${option.toUpperCase().replaceAll('-', '_')}`;
}

/** Whose names say they hold a secret; a URL's password is masked whatever its option. */
const SECRET_NAME = /passphrase|password|secret|token|seed/i;

/** A secret file's text without the line end editors and `echo` leave after it. */
function secretFrom(path: string, readText: (path: string) => string, source: string): string {
  try {
    return readText(path).replace(/\r?\n$/, '');
  } catch (error) {
    throw new SettingsError(`${source}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function configSchema(table: OptionTable) {
  const text = z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1), z.strictObject({ file: z.string() })]);
  return z.strictObject(Object.fromEntries(Object.entries(table).map(([name, option]) => [name, (option.type === 'boolean' ? z.boolean() : text).optional()])));
}

/**
 * Reads a config file (YAML: one `option: value` per line, the flags' names without dashes in front).
 * A list is the flag's comma-separated list; `{ file: <path> }` reads the value from that file.
 */
export function readConfigFile(path: string, text: string, table: OptionTable, readText: (path: string) => string): Settings {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [syntax] = document.errors;
  if (syntax) throw new SettingsError(`${path}: ${syntax.message}`);
  const lineOf = (key: PropertyKey | undefined): string => {
    const pair = isMap(document.contents) ? document.contents.items.find((item) => isScalar(item.key) && item.key.value === key) : undefined;
    const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    return offset === undefined ? path : `${path} line ${lineCounter.linePos(offset).line}`;
  };
  const contents: unknown = document.toJS() ?? {};
  const parsed = configSchema(table).safeParse(contents);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new SettingsError(`${lineOf(issue.keys[0])}: no setting "${issue.keys[0]}" (the settings are the host's flags: lanchat-host --help)`);
    }
    const key = issue.path[0];
    throw new SettingsError(
      key === undefined ? `${path}: the file must hold "setting: value" lines, one setting per line` : `${lineOf(key)}: ${String(key)}: ${issue.message}`,
    );
  }
  const settings: Settings = new Map();
  for (const [name, value] of Object.entries(parsed.data)) {
    if (value === undefined) continue;
    const source = lineOf(name);
    if (typeof value === 'object' && !Array.isArray(value)) settings.set(name, { value: secretFrom(value.file, readText, source), source, fromFile: true });
    else settings.set(name, { value: Array.isArray(value) ? value.join(',') : typeof value === 'number' ? String(value) : value, source, fromFile: false });
  }
  return settings;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The options set in the environment: LANCHAT_<NAME>, or LANCHAT_<NAME>_FILE naming a file that holds it; `aliases` are older names. */
export function readEnvironment(
  env: NodeJS.ProcessEnv,
  table: OptionTable,
  readText: (path: string) => string,
  aliases: Readonly<Record<string, string>> = {},
): Settings {
  const settings: Settings = new Map();
  for (const [name, option] of Object.entries(table)) {
    for (const variable of [envName(name), aliases[name]]) {
      if (variable === undefined) continue;
      const file = env[`${variable}_FILE`];
      const raw = env[variable] ?? (file !== undefined ? secretFrom(file, readText, `${variable}_FILE`) : undefined);
      if (raw === undefined) continue;
      const source = env[variable] !== undefined ? variable : `${variable}_FILE`;
      let value: string | boolean = raw;
      if (option.type === 'boolean') {
        if (!TRUE.has(raw.toLowerCase()) && !FALSE.has(raw.toLowerCase())) throw new SettingsError(`${source} must be true or false, not "${raw}"`);
        value = TRUE.has(raw.toLowerCase());
      }
      settings.set(name, { value, source, fromFile: file !== undefined && env[variable] === undefined });
      break;
    }
  }
  return settings;
}

/** The flags given, as settings. */
export function flagSettings(flags: Readonly<Record<string, string | boolean | undefined>>, table: OptionTable): Settings {
  const settings: Settings = new Map();
  for (const name of Object.keys(table)) {
    const value = flags[name];
    if (value !== undefined) settings.set(name, { value, source: `--${name}`, fromFile: false });
  }
  return settings;
}

/** Each option from the first of `layers` (most important first) that has it, else its default. */
export function mergeSettings(table: OptionTable, ...layers: Settings[]): Settings {
  const merged: Settings = new Map();
  for (const [name, option] of Object.entries(table)) {
    const setting = layers.find((layer) => layer.has(name))?.get(name);
    if (setting) merged.set(name, setting);
    else if (option.default !== undefined) merged.set(name, { value: option.default, source: 'default', fromFile: false });
  }
  return merged;
}

function masked(name: string, setting: Setting): string | number | boolean {
  if (setting.fromFile || SECRET_NAME.test(name)) return '********';
  if (typeof setting.value !== 'string') return setting.value;
  if (/^\d+(\.\d+)?$/.test(setting.value)) return Number(setting.value);
  if (!setting.value.includes('@')) return setting.value;
  // Each URL of a list (NATS takes several) without its password.
  return setting.value
    .split(',')
    .map((part) => {
      try {
        const url = new URL(part);
        if (!url.password) return part;
        url.password = '********';
        return url.toString();
      } catch {
        return part;
      }
    })
    .join(',');
}

/** The effective settings as a config file would hold them, secrets masked, each line saying where it came from. */
export function printSettings(settings: Settings): string {
  return [...settings]
    .map(([name, setting]) => `${stringify({ [name]: masked(name, setting) }, { lineWidth: 0 }).trimEnd()}  # ${setting.source}`)
    .join('\n');
}
