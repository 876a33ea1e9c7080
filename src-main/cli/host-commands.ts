/**
 * The headless host's admin commands, typed on its standard input:
 * /users, /pending, /approve, /reject, /kick, /ban, /unban, /bans, /mute, /unmute, /reset, /silent, /purge, /help.
 * Each answers with lines to print; a refused action answers "error: …".
 */
import { ServerError } from '../server/errors.js';
import { normalizeAddress } from '../server/access.js';
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
];

/** The optional age argument of /silent and /purge. */
function minutesArgument(argument: string | undefined): number | undefined {
  if (argument === undefined) return undefined;
  const minutes = Number(argument);
  if (!Number.isInteger(minutes) || minutes < 0) throw new ServerError('BAD_REQUEST', 'minutes must be a whole number, 0 or more');
  return minutes;
}

/** A name or, when it reads as one, an IP address. */
function banTarget(argument: string): { name: string } | { address: string } {
  return normalizeAddress(argument) !== undefined ? { address: argument } : { name: argument };
}

/** Runs one command; every line it answers is safe to print (names and client versions come from peers). */
export async function runHostCommand(server: ChatServer, line: string): Promise<string[]> {
  return (await answer(server, line)).map(printable);
}

async function answer(server: ChatServer, line: string): Promise<string[]> {
  const [command = '', ...args] = line.trim().split(/\s+/);
  const admin = server.admin;
  const need = (count: number, usage: string): void => {
    if (args.length < count) throw new ServerError('BAD_REQUEST', `usage: ${usage}`);
  };
  try {
    switch (command) {
      case '':
        return [];
      case '/help':
        return HOST_COMMANDS_HELP;
      case '/users': {
        const users = admin.connections();
        if (users.length === 0) return ['nobody is connected'];
        return users.map((u) => `${u.name}  ${u.address}  ${u.client ?? '(no client name)'}${u.muted ? '  muted' : ''}`);
      }
      case '/pending': {
        const pending = await admin.pending();
        return pending.length === 0 ? ['nobody is waiting'] : pending.map((p) => `${p.name}  since ${new Date(p.createdAt).toISOString()}`);
      }
      case '/approve':
        need(1, '/approve <name>');
        await admin.approve(args[0]!);
        return [`approved ${args[0]}`];
      case '/reject':
        need(1, '/reject <name>');
        await admin.reject(args[0]!);
        return [`rejected ${args[0]}`];
      case '/kick':
        need(1, '/kick <name>');
        return [`kicked ${args[0]} (${await admin.kick(args[0]!)} connections)`];
      case '/ban':
        need(1, '/ban <name|address>');
        await admin.ban(banTarget(args[0]!));
        return [`banned ${args[0]}`];
      case '/unban':
        need(1, '/unban <name|address>');
        return [(await admin.unban(banTarget(args[0]!))) ? `unbanned ${args[0]}` : `${args[0]} was not banned`];
      case '/bans': {
        const bans = await admin.bans();
        return bans.length === 0 ? ['no bans'] : bans.map((ban) => `${ban.kind} ${ban.value}`);
      }
      case '/mute': {
        need(1, '/mute <name> [minutes]');
        const minutes = args[1] === undefined ? undefined : Number(args[1]);
        if (minutes !== undefined && !(minutes > 0)) throw new ServerError('BAD_REQUEST', 'minutes must be a number above 0');
        await admin.mute(args[0]!, minutes);
        return [minutes === undefined ? `muted ${args[0]} until /unmute` : `muted ${args[0]} for ${minutes} min`];
      }
      case '/unmute':
        need(1, '/unmute <name>');
        return [(await admin.unmute(args[0]!)) ? `unmuted ${args[0]}` : `${args[0]} was not muted`];
      case '/reset': {
        need(1, '/reset <name> [password]');
        const password = await admin.resetPassword(args[0]!, args[1]);
        return [`new password for ${args[0]}: ${password}`];
      }
      case '/silent': {
        const silent = await admin.silentAccounts(minutesArgument(args[0]));
        if (silent.count === 0) return ['no account that never wrote'];
        const more = silent.count - silent.accounts.length;
        return [
          `${silent.count} accounts never wrote:`,
          ...silent.accounts.map((a) => `${a.name}  since ${new Date(a.createdAt).toISOString()}`),
          ...(more > 0 ? [`… and ${more} more`] : []),
        ];
      }
      case '/purge':
        return [`purged ${await admin.purgeSilent(minutesArgument(args[0]))} accounts that never wrote`];
      default:
        return [`error: unknown command ${command.slice(0, 40)}; /help lists them`];
    }
  } catch (error) {
    if (error instanceof ServerError) return [`error: ${error.message}`];
    throw error;
  }
}
