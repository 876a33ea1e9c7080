/**
 * The host's admin commands as requests: one list that the stdin console (cli/host-commands.ts) and the
 * admin API on the admin port (cli/admin-port.ts, POST /admin) both run, through ServerAdmin, so a command
 * does the same from either. Each answers with a JSON result and the lines a console prints.
 */
import { z } from 'zod';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { normalizeAddress } from './access.js';
import type { BanTarget, ServerAdmin } from './handlers/admin.js';
import { ServerError } from './errors.js';

const name = z.string().trim().min(1).max(256);
const address = z.string().trim().min(1).max(64);
/** The age of /silent and /purge: accounts created at least that many minutes ago. */
const age = z.number().int().min(0).optional();
const banTarget = z.union([z.strictObject({ name }), z.strictObject({ address })], {
  error: 'give either "name" or "address"',
});

/** Each command's request, as JSON: `{ "command": "kick", "name": "bob" }`. */
export const ADMIN_REQUESTS = {
  users: z.strictObject({}),
  pending: z.strictObject({}),
  approve: z.strictObject({ name }),
  reject: z.strictObject({ name }),
  kick: z.strictObject({ name }),
  ban: banTarget,
  unban: banTarget,
  bans: z.strictObject({}),
  mute: z.strictObject({ name, minutes: z.number().positive().optional() }),
  unmute: z.strictObject({ name }),
  reset: z.strictObject({ name, password: z.string().min(1).max(1024).optional() }),
  silent: z.strictObject({ minutes: age }),
  purge: z.strictObject({ minutes: age }),
  settings: z.strictObject({}),
} as const;

export type AdminCommand = keyof typeof ADMIN_REQUESTS;
/** A request's fields; a command without any infers as Record<string, never>, which would swallow `command`. */
type Fields<T> = string extends keyof T ? unknown : T;
export type AdminRequest = { [C in AdminCommand]: { command: C } & Fields<z.infer<(typeof ADMIN_REQUESTS)[C]>> }[AdminCommand];

export const ADMIN_COMMANDS = Object.keys(ADMIN_REQUESTS) as AdminCommand[];

export interface AdminAnswer {
  /** What the command found or did, as JSON. */
  result: Record<string, unknown>;
  /** The same for a person: the console's lines (names come from peers: print them through `printable`). */
  lines: string[];
}

/** What a command may need beyond the server. */
export interface AdminContext {
  /** The settings in force, secrets masked, each saying where it came from (`--print-config`'s lines). */
  settings?: readonly string[];
}

/** Checks a request's JSON; a wrong one throws ServerError BAD_REQUEST saying what is wrong. */
export function parseAdminRequest(body: unknown): AdminRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServerError(ErrorCode.BAD_REQUEST, 'the request is a JSON object with a "command"');
  const { command, ...fields } = body as Record<string, unknown>;
  if (typeof command !== 'string' || !Object.hasOwn(ADMIN_REQUESTS, command)) {
    throw new ServerError(ErrorCode.BAD_REQUEST, `"command" must be one of ${ADMIN_COMMANDS.join(', ')}`);
  }
  const parsed = ADMIN_REQUESTS[command as AdminCommand].safeParse(fields);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    throw new ServerError(ErrorCode.BAD_REQUEST, `${command}: ${problems.join('; ')}`);
  }
  return { command, ...parsed.data } as AdminRequest;
}

/** What a request names as its target, for the log (never a password). */
export function requestTarget(request: AdminRequest): Record<string, unknown> {
  const { command: _command, ...fields } = request;
  if ('password' in fields) return { ...fields, password: '(given)' };
  return fields;
}

/** A ban's target as the console takes it: an IP address when it reads as one, else a name. */
export function banTargetOf(argument: string): BanTarget {
  return normalizeAddress(argument) !== undefined ? { address: argument } : { name: argument };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Runs one request; a refused action throws ServerError (the console prints it, the API answers it). */
export async function runAdminRequest(admin: ServerAdmin, request: AdminRequest, context: AdminContext = {}): Promise<AdminAnswer> {
  switch (request.command) {
    case 'users': {
      const users = admin.connections();
      return {
        result: { users: users.map((u) => ({ ...u, since: iso(u.since) })) },
        lines: users.length === 0 ? ['nobody is connected'] : users.map((u) => `${u.name}  ${u.address}  ${u.client ?? '(no client name)'}${u.muted ? '  muted' : ''}`),
      };
    }
    case 'pending': {
      const pending = await admin.pending();
      return {
        result: { pending: pending.map((p) => ({ name: p.name, createdAt: iso(p.createdAt) })) },
        lines: pending.length === 0 ? ['nobody is waiting'] : pending.map((p) => `${p.name}  since ${iso(p.createdAt)}`),
      };
    }
    case 'approve':
      await admin.approve(request.name);
      return { result: {}, lines: [`approved ${request.name}`] };
    case 'reject':
      await admin.reject(request.name);
      return { result: {}, lines: [`rejected ${request.name}`] };
    case 'kick': {
      const connections = await admin.kick(request.name);
      return { result: { connections }, lines: [`kicked ${request.name} (${connections} connections)`] };
    }
    case 'ban': {
      const { command: _command, ...target } = request;
      await admin.ban(target);
      return { result: {}, lines: [`banned ${'name' in target ? target.name : target.address}`] };
    }
    case 'unban': {
      const { command: _command, ...target } = request;
      const removed = await admin.unban(target);
      const shown = 'name' in target ? target.name : target.address;
      return { result: { removed }, lines: [removed ? `unbanned ${shown}` : `${shown} was not banned`] };
    }
    case 'bans': {
      const bans = await admin.bans();
      return {
        result: { bans: bans.map((ban) => ({ kind: ban.kind, value: ban.value })) },
        lines: bans.length === 0 ? ['no bans'] : bans.map((ban) => `${ban.kind} ${ban.value}`),
      };
    }
    case 'mute':
      await admin.mute(request.name, request.minutes);
      return {
        result: {},
        lines: [request.minutes === undefined ? `muted ${request.name} until unmuted` : `muted ${request.name} for ${request.minutes} min`],
      };
    case 'unmute': {
      const removed = await admin.unmute(request.name);
      return { result: { removed }, lines: [removed ? `unmuted ${request.name}` : `${request.name} was not muted`] };
    }
    case 'reset': {
      const password = await admin.resetPassword(request.name, request.password);
      return { result: { password }, lines: [`new password for ${request.name}: ${password}`] };
    }
    case 'silent': {
      const silent = await admin.silentAccounts(request.minutes);
      const more = silent.count - silent.accounts.length;
      return {
        result: { count: silent.count, accounts: silent.accounts.map((a) => ({ name: a.name, createdAt: iso(a.createdAt) })) },
        lines:
          silent.count === 0
            ? ['no account that never wrote']
            : [
                `${silent.count} accounts never wrote:`,
                ...silent.accounts.map((a) => `${a.name}  since ${iso(a.createdAt)}`),
                ...(more > 0 ? [`… and ${more} more`] : []),
              ],
      };
    }
    case 'purge': {
      const purged = await admin.purgeSilent(request.minutes);
      return { result: { purged }, lines: [`purged ${purged} accounts that never wrote`] };
    }
    case 'settings': {
      // Read-only: a setting changes in the config file, and takes effect at the host's next start.
      if (!context.settings) throw new ServerError(ErrorCode.BAD_REQUEST, 'this host was not started by lanchat-host: its settings are its caller\'s');
      return { result: { settings: [...context.settings] }, lines: [...context.settings] };
    }
  }
}
