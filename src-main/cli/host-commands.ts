/**
 * The headless host's admin commands, typed on its standard input:
 * /users, /pending, /approve, /reject, /kick, /ban, /unban, /bans, /mute, /unmute, /reset, /silent, /purge, /help.
 * Each answers with lines to print; a refused action answers "error: …". The admin API (admin-port.ts) runs
 * the same requests (server/admin-requests.ts).
 */
import { type AdminContext, type AdminRequest, banTargetOf, runAdminRequest } from '../server/admin-requests.js';
import { ServerError } from '../server/errors.js';
import type { ChatServer } from '../server/server.js';
import { printable } from './terminal-format.js';

export const HOST_COMMANDS_HELP = [
  '/users                    connected users: name, address, client version',
  '/pending                  accounts waiting for approval',
  '/approve <name>           let a waiting account in',
  '/reject <name>            delete a waiting account',
  '/kick <name>              disconnect a user',
  '/ban <name|address>       ban a name or an IP address (kept across restarts)',
  '/unban <name|address>     lift a ban',
  '/bans                     list bans',
  '/mute <name> [minutes]    refuse their messages (until /unmute without minutes)',
  '/unmute <name>            lift a mute',
  '/reset <name> [password]  set a new password (a generated one if none given)',
  '/silent [minutes]         accounts that never wrote and are offline (created that long ago)',
  '/purge [minutes]          delete the accounts /silent lists',
  '/settings                 the settings in force, secrets masked, and where each came from',
];

/** The optional age argument of /silent and /purge. */
function minutesArgument(argument: string | undefined): number | undefined {
  if (argument === undefined) return undefined;
  const minutes = Number(argument);
  if (!Number.isInteger(minutes) || minutes < 0) throw new ServerError('BAD_REQUEST', 'minutes must be a whole number, 0 or more');
  return minutes;
}

/** Runs one command; every line it answers is safe to print (names and client versions come from peers). */
export async function runHostCommand(server: ChatServer, line: string, context: AdminContext = {}): Promise<string[]> {
  return (await answer(server, line, context)).map(printable);
}

/** The console's line as the request the admin API takes too (admin-requests.ts); null for an empty line. */
export function consoleRequest(line: string): AdminRequest | 'help' | null {
  const [command = '', ...args] = line.trim().split(/\s+/);
  const need = (count: number, usage: string): void => {
    if (args.length < count) throw new ServerError('BAD_REQUEST', `usage: ${usage}`);
  };
  switch (command) {
    case '':
      return null;
    case '/help':
      return 'help';
    case '/users':
    case '/pending':
    case '/bans':
    case '/settings':
      return { command: command.slice(1) } as AdminRequest;
    case '/approve':
    case '/reject':
    case '/kick':
    case '/unmute':
      need(1, `${command} <name>`);
      return { command: command.slice(1), name: args[0]! } as AdminRequest;
    case '/ban':
    case '/unban':
      need(1, `${command} <name|address>`);
      return { command: command.slice(1), ...banTargetOf(args[0]!) } as AdminRequest;
    case '/mute': {
      need(1, '/mute <name> [minutes]');
      const minutes = args[1] === undefined ? undefined : Number(args[1]);
      if (minutes !== undefined && !(minutes > 0)) throw new ServerError('BAD_REQUEST', 'minutes must be a number above 0');
      return { command: 'mute', name: args[0]!, ...(minutes !== undefined ? { minutes } : {}) };
    }
    case '/reset':
      need(1, '/reset <name> [password]');
      return { command: 'reset', name: args[0]!, ...(args[1] !== undefined ? { password: args[1] } : {}) };
    case '/silent':
    case '/purge': {
      const minutes = minutesArgument(args[0]);
      return { command: command.slice(1), ...(minutes !== undefined ? { minutes } : {}) } as AdminRequest;
    }
    default:
      throw new ServerError('BAD_REQUEST', `unknown command ${command.slice(0, 40)}; /help lists them`);
  }
}

async function answer(server: ChatServer, line: string, context: AdminContext): Promise<string[]> {
  try {
    const request = consoleRequest(line);
    if (request === null) return [];
    if (request === 'help') return HOST_COMMANDS_HELP;
    return (await runAdminRequest(server.admin, request, context)).lines;
  } catch (error) {
    if (error instanceof ServerError) return [`error: ${error.message}`];
    throw error;
  }
}
