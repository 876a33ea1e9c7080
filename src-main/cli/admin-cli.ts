/**
 * `lanchat-host admin <command> [arguments]`: the console's commands sent to a running host's admin API
 * (admin-api.ts) from a shell or a script, here or on another machine. Where and with which token: the
 * flags, else LANCHAT_ADMIN_URL and LANCHAT_ADMIN_TOKEN (or LANCHAT_ADMIN_TOKEN_FILE), else the host's own
 * config file (its admin-port, admin-bind and admin-token), so on a node `lanchat-host admin --config
 * /etc/lanchat/lanchat.yaml kick bob` needs nothing more.
 */
import { readFileSync } from 'node:fs';
import { userInfo, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ServerError } from '../server/errors.js';
import { HOST_OPTIONS } from './host-args.js';
import { consoleRequest, HOST_COMMANDS_HELP } from './host-commands.js';
import { readConfigFile, readEnvironment, SettingsError } from './host-config.js';
import { printable } from './terminal-format.js';

export const ADMIN_USAGE = [
  'usage: lanchat-host admin [--url <url>] [--config <file>] [--json] <command> [arguments]',
  '  sends one of the host console\'s commands to a running host\'s admin API (its admin-port, with an admin-token)',
  '  --url <url>      the admin port, http://127.0.0.1:9171 (or LANCHAT_ADMIN_URL); else from the config file',
  '  --config <file>  the host\'s config file (or LANCHAT_CONFIG): its admin-port, admin-bind and admin-token',
  '  the token: LANCHAT_ADMIN_TOKEN, LANCHAT_ADMIN_TOKEN_FILE (a file holding it), or admin-token in the config file',
  '  --json           print the host\'s answer as JSON rather than lines',
  'commands (as on the console, without the slash):',
  ...HOST_COMMANDS_HELP.map((line) => `  ${line.slice(1)}`),
  'exit status: 0 done, 1 refused by the host (or unreachable), 2 a wrong command line',
].join('\n');

export interface AdminCliIo {
  env: NodeJS.ProcessEnv;
  print(line: string): void;
  printError(line: string): void;
  readText?(path: string): string;
}

class AdminUsageError extends Error {}

/** Runs the command line (after `admin`); resolves to the exit status. */
export async function runAdminCli(args: string[], io: AdminCliIo): Promise<number> {
  const readText = io.readText ?? ((path: string) => readFileSync(path, 'utf8'));
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { url: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help || positionals.length === 0) {
      io.print(ADMIN_USAGE);
      return values.help ? 0 : 2;
    }
    const request = consoleRequest(`/${positionals.join(' ')}`);
    if (request === null || request === 'help') {
      io.print(ADMIN_USAGE);
      return 0;
    }
    const { url, token } = target(values.url, values.config ?? io.env.LANCHAT_CONFIG, io.env, readText);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-lanchat-operator': operator() },
        body: JSON.stringify(request),
      });
    } catch (error) {
      io.printError(`error: cannot reach the admin API at ${url}: ${String((error as Error).cause ?? error)}`);
      return 1;
    }
    const text = await response.text();
    let body: { ok?: boolean; lines?: string[]; error?: { message?: string } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      io.printError(`error: ${url} answered ${response.status}: ${printable(text.trim())}`);
      return 1;
    }
    if (values.json) io.print(JSON.stringify(body, null, 2));
    else if (body.ok) for (const line of body.lines ?? []) io.print(printable(line));
    if (!body.ok) io.printError(`error: ${printable(body.error?.message ?? `the host answered ${response.status}`)}`);
    return body.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof ServerError || error instanceof AdminUsageError || error instanceof SettingsError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.printError(`error: ${(error as Error).message}\n${ADMIN_USAGE}`);
      return 2;
    }
    throw error;
  }
}

/** Where the admin API is and its token, from the flag, the environment, then the config file. */
function target(urlFlag: string | undefined, configPath: string | undefined, env: NodeJS.ProcessEnv, readText: (path: string) => string): { url: URL; token: string } {
  const fromEnv = readEnvironment(env, HOST_OPTIONS, readText);
  const fromFile = configPath !== undefined ? readConfigFile(configPath, readConfigText(configPath, readText), HOST_OPTIONS, readText) : new Map();
  const setting = (name: string): string | undefined => {
    const value = (fromEnv.get(name) ?? fromFile.get(name))?.value;
    return typeof value === 'string' ? value : undefined;
  };
  const token = setting('admin-token');
  if (token === undefined) throw new AdminUsageError('no admin token: set LANCHAT_ADMIN_TOKEN_FILE (or LANCHAT_ADMIN_TOKEN), or give --config with admin-token');
  let base = urlFlag ?? env.LANCHAT_ADMIN_URL;
  if (base === undefined) {
    const port = setting('admin-port');
    if (port === undefined) throw new AdminUsageError('where is the host? give --url, LANCHAT_ADMIN_URL, or --config with admin-port');
    if (port === '0') throw new AdminUsageError('the host\'s admin-port is 0 (any free port): give --url with the address it printed ("admin http://…")');
    const bind = setting('admin-bind') ?? '127.0.0.1';
    // A host listening on every address is reached on this machine's loopback.
    const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '[::1]' : bind.includes(':') ? `[${bind}]` : bind;
    base = `http://${host}:${port}`;
  }
  try {
    return { url: new URL('/admin', base), token };
  } catch {
    throw new AdminUsageError(`not a URL: ${base}`);
  }
}

function readConfigText(path: string, readText: (path: string) => string): string {
  try {
    return readText(path);
  } catch (error) {
    throw new AdminUsageError(`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Who runs the command, for the host's log. */
function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}
