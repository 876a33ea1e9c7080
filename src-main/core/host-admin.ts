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

/** Runs one admin action; throws the server's ServerError when it is refused. */
export async function runHostAdmin(server: ChatServer, action: HostAdminAction): Promise<HostAdminResult> {
  const admin = server.admin;
  switch (action.kind) {
    case 'kick':
      admin.kick(action.user);
      return {};
    case 'ban':
      admin.ban({ name: action.user });
      return {};
    case 'banAddress':
      admin.ban({ address: action.address });
      return {};
    case 'unban':
      admin.unban({ name: action.user });
      return {};
    case 'unbanAddress':
      admin.unban({ address: action.address });
      return {};
    case 'mute':
      admin.mute(action.user, action.minutes);
      return {};
    case 'unmute':
      admin.unmute(action.user);
      return {};
    case 'approve':
      admin.approve(action.user);
      return {};
    case 'reject':
      admin.reject(action.user);
      return {};
    case 'resetPassword':
      return { password: await admin.resetPassword(action.user, action.password) };
    case 'purgeSilent':
      return { purged: await admin.purgeSilent(action.olderThanMinutes) };
  }
}
