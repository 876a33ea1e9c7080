/** Groups, their members and invitations, and the membership lines of their histories (see ../groups.ts). */
import { randomUUID } from 'node:crypto';
import { groupConversation } from '../../../src-shared/protocol/conversation.js';
import type { AsyncStore, GroupMethod, GroupRow, InvitationRow, InvitationState, NewGroupEvent, StoredLine } from '../types.js';
import { messageById } from './rows.js';
import { lockLog, unlessTaken, type Sql } from './sql.js';

const GROUP_COLUMNS = 'id, name, name_key AS "nameKey", owner_id AS "ownerId", created_at AS "createdAt"';
const INVITATION_COLUMNS = 'group_id AS "groupId", user_id AS "userId", inviter_id AS "inviterId", state, since';

// changeGroups is pg/store.ts's: a transaction over the whole store.
type GroupStore = Pick<AsyncStore, Exclude<GroupMethod, 'changeGroups'>>;

/**
 * Stores a membership line as a message of its group, under the log lock; like a message it is its
 * own entry in the log (migration 2). Not counted in the actor's daily quota (nobody wrote it); folded '' (nothing to find).
 */
export async function storeLine(sql: Sql, { groupId, actorId, event, text }: NewGroupEvent, ts: number): Promise<StoredLine> {
  const conv = groupConversation(groupId);
  const { id } = (await sql.row<{ id: number }>(
    `INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts, group_event)
     VALUES ($1, $2, $3, $4, $5, '', $6, $7) RETURNING id`,
    // The client id is generated here: unique per sender like a client's, and never one a client chose.
    [conv, actorId, groupId, `group-event:${randomUUID()}`, text, ts, JSON.stringify(event)],
  ))!;
  return { message: (await messageById(sql, id))!, eventId: id };
}

export function groupQueries(sql: Sql): GroupStore {
  const taken = (name: string): string => `a group named "${name}" already exists`;
  const setInvitation = async (groupId: number, userId: number, inviterId: number, state: InvitationState, since: number): Promise<void> =>
    void (await sql.run(
      `INSERT INTO group_invitations (group_id, user_id, inviter_id, state, since) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (group_id, user_id) DO UPDATE SET inviter_id = excluded.inviter_id, state = excluded.state, since = excluded.since`,
      [groupId, userId, inviterId, state, since],
    ));
  return {
    createGroup: (name, nameKey, ownerId, createdAt) =>
      unlessTaken(sql, taken(name), async (tx) => {
        const group = (await tx.row<GroupRow>(
          `INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ($1, $2, $3, $4) RETURNING ${GROUP_COLUMNS}`,
          [name, nameKey, ownerId, createdAt],
        ))!;
        await tx.run('INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)', [group.id, ownerId]);
        return group;
      }),
    groupById: (id) => sql.row<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id = $1`, [id]),
    renameGroup: (id, name, nameKey) =>
      unlessTaken(sql, taken(name), async (tx) => void (await tx.run('UPDATE chat_groups SET name = $1, name_key = $2 WHERE id = $3', [name, nameKey, id]))),
    /** Its messages (their files by cascade), then what the log, reactions, mentions and read positions kept of it. */
    /** Under the log lock, so a batch of sends to the group either commits before it (and is deleted) or finds it gone. */
    deleteGroup: (id) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        const conv = groupConversation(id);
        await tx.run(
          `DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conv = $1)`,
          [conv],
        );
        await tx.run('DELETE FROM mentions WHERE message_id IN (SELECT id FROM messages WHERE conv = $1)', [conv]);
        await tx.run('DELETE FROM messages WHERE conv = $1', [conv]);
        await tx.run('DELETE FROM conv_events WHERE conv = $1', [conv]);
        await tx.run('DELETE FROM read_cursors WHERE conv = $1', [conv]);
        await tx.run('DELETE FROM chat_groups WHERE id = $1', [id]);
      }),
    addMember: async (groupId, userId) =>
      void (await sql.run('INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId])),
    removeMember: async (groupId, userId) =>
      void (await sql.run('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])),
    isMember: async (groupId, userId) =>
      (await sql.row('SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) !== undefined,
    memberIds: async (groupId) =>
      (await sql.rows<{ id: number }>('SELECT user_id AS id FROM group_members WHERE group_id = $1 ORDER BY user_id', [groupId])).map((row) => row.id),
    groupsOf: (userId) =>
      sql.rows<GroupRow>(
        `SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) ORDER BY name_key, id`,
        [userId],
      ),
    invitation: (groupId, userId) =>
      sql.row<InvitationRow>(`SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE group_id = $1 AND user_id = $2`, [groupId, userId]),
    invitationsOf: (userId) =>
      sql.rows<InvitationRow>(
        `SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE user_id = $1 AND state = 'pending' ORDER BY since, group_id`,
        [userId],
      ),
    invitedIds: async (groupId) =>
      (
        await sql.rows<{ id: number }>(
          `SELECT user_id AS id FROM group_invitations WHERE group_id = $1 AND state = 'pending' ORDER BY user_id`,
          [groupId],
        )
      ).map((row) => row.id),
    deleteInvitation: async (groupId, userId) =>
      void (await sql.run('DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2', [groupId, userId])),
    invite: (groupId, userId, inviterId, since) => setInvitation(groupId, userId, inviterId, 'pending', since),
    declineInvitation: (groupId, userId, inviterId, since) => setInvitation(groupId, userId, inviterId, 'declined', since),
  };
}

