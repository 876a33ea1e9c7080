/**
 * The host panel's view of the room server: connected users grouped by name,
 * and admin actions from the App API carried out on the server.
 */
import type { HostAdminAction, HostAdminResult, HostUser } from '../../src-shared/api.js';
import type { ChatServer } from '../server/server.js';

/** Connected users, one entry per name with each connection's address and client. */
export function hostUsers(server: ChatServer): HostUser[] {
  const byName = new Map<string, HostUser>();
  for (const connection of server.admin.connections()) {
    let user = byName.get(connection.name);
    if (!user) {
      user = { name: connection.name, connections: 0, addresses: [], clients: [], muted: connection.muted };
      byName.set(connection.name, user);
    }
    user.connections += 1;
    user.addresses.push(connection.address);
    if (connection.client !== null) user.clients.push(connection.client);
  }
  return [...byName.values()];
}

type Action<K extends HostAdminAction['kind']> = Extract<HostAdminAction, { kind: K }>;

/** Each action on the server's admin; only resetPassword answers with more than {}. */
const ACTIONS: { [K in HostAdminAction['kind']]: (admin: ChatServer['admin'], action: Action<K>) => unknown } = {
  kick: (admin, { user }) => admin.kick(user),
  ban: (admin, { user }) => admin.ban({ name: user }),
  banAddress: (admin, { address }) => admin.ban({ address }),
  unban: (admin, { user }) => admin.unban({ name: user }),
  unbanAddress: (admin, { address }) => admin.unban({ address }),
  mute: (admin, { user, minutes }) => admin.mute(user, minutes),
  unmute: (admin, { user }) => admin.unmute(user),
  approve: (admin, { user }) => admin.approve(user),
  reject: (admin, { user }) => admin.reject(user),
  resetPassword: (admin, { user, password }) => admin.resetPassword(user, password),
};

/** Runs one admin action; throws the server's ServerError when it is refused. */
export async function runHostAdmin(server: ChatServer, action: HostAdminAction): Promise<HostAdminResult> {
  const run = ACTIONS[action.kind] as (admin: ChatServer['admin'], action: HostAdminAction) => unknown;
  const value = await run(server.admin, action);
  return action.kind === 'resetPassword' ? { password: value as string } : {};
}
