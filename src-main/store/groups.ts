/** Groups, their members and invitations, and the membership lines of their histories; deleting a group deletes its messages and its encrypted frames. */
import { randomUUID } from 'node:crypto';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { deleteMlsConversation } from './mls.js';
import { lockLog, row, rows, run, transaction, type Query, type Queries } from './query.js';
import type { GroupRow, InvitationRow, InvitationState, NewGroupEvent, Store } from './types.js';

/** changeGroups is each engine's store's: a transaction over the whole store. */
export type GroupStore = Pick<
  Store,
  | 'createGroup'
  | 'groupById'
  | 'renameGroup'
  | 'deleteGroup'
  | 'addMember'
  | 'removeMember'
  | 'isMember'
  | 'memberIds'
  | 'coMemberIds'
  | 'groupsOf'
  | 'invitation'
  | 'invitationsOf'
  | 'invitedIds'
  | 'deleteInvitation'
  | 'invite'
  | 'declineInvitation'
>;

const GROUP_COLUMNS = 'id, name, name_key AS "nameKey", owner_id AS "ownerId", created_at AS "createdAt"';
const INVITATION_COLUMNS = 'group_id AS "groupId", user_id AS "userId", inviter_id AS "inviterId", state, since';

/**
 * Stores a membership line as a message of its group; returns its id. Like a message it is its own
 * entry in the event log. Not counted in the actor's daily quota (nobody wrote it); folded '' (nothing to find).
 */
export function* insertLine({ groupId, actorId, event, text }: NewGroupEvent, ts: number): Query<number> {
  const stored = yield* rows<{ id: number }>(
    `INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts, group_event)
     VALUES ($1, $2, $3, $4, $5, '', $6, $7) RETURNING id`,
    // The client id is generated here: unique per sender like a client's, and never one a client chose.
    [groupConversation(groupId), actorId, groupId, `group-event:${randomUUID()}`, text, ts, JSON.stringify(event)],
  );
  return stored[0]!.id;
}

const taken = (name: string): string => `a group named "${name}" already exists`;

function* ids(text: string, values: unknown[]): Query<number[]> {
  return (yield* rows<{ id: number }>(text, values)).map((found) => found.id);
}

function* setInvitation(groupId: number, userId: number, inviterId: number, state: InvitationState, since: number): Query<void> {
  yield* run(
    `INSERT INTO group_invitations (group_id, user_id, inviter_id, state, since) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (group_id, user_id) DO UPDATE SET inviter_id = excluded.inviter_id, state = excluded.state, since = excluded.since`,
    [groupId, userId, inviterId, state, since],
  );
}

function* addMember(groupId: number, userId: number): Query<void> {
  yield* run('INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId]);
}

export const groupQueries: Queries<GroupStore> = {
  createGroup: (name, nameKey, ownerId, createdAt) =>
    transaction(
      (function* () {
        const group = (yield* rows<GroupRow>(
          `INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ($1, $2, $3, $4) RETURNING ${GROUP_COLUMNS}`,
          [name, nameKey, ownerId, createdAt],
        ))[0]!;
        yield* addMember(group.id, ownerId);
        return group;
      })(),
      taken(name),
    ),
  groupById: (id) => row<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id = $1`, [id]),
  renameGroup: (id, name, nameKey) =>
    transaction(
      (function* () {
        yield* run('UPDATE chat_groups SET name = $1, name_key = $2 WHERE id = $3', [name, nameKey, id]);
      })(),
      taken(name),
    ),
  /**
   * Its messages (their files by cascade), then what the log, reactions, mentions and read positions kept of it, and its encrypted frames;
   * under the log lock, so a batch of sends to the group either commits before it (and is deleted) or finds it gone.
   */
  deleteGroup: (id) =>
    transaction(
      (function* () {
        yield* lockLog();
        const conv = groupConversation(id);
        yield* run('DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conv = $1)', [conv]);
        yield* run('DELETE FROM mentions WHERE message_id IN (SELECT id FROM messages WHERE conv = $1)', [conv]);
        yield* run('DELETE FROM messages WHERE conv = $1', [conv]);
        yield* run('DELETE FROM conv_events WHERE conv = $1', [conv]);
        yield* run('DELETE FROM read_cursors WHERE conv = $1', [conv]);
        yield* deleteMlsConversation(conv);
        yield* run('DELETE FROM chat_groups WHERE id = $1', [id]);
      })(),
    ),
  addMember,
  *removeMember(groupId, userId) {
    yield* run('DELETE FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
  },
  *isMember(groupId, userId) {
    return (yield* row('SELECT 1 AS found FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) !== undefined;
  },
  memberIds: (groupId) => ids('SELECT user_id AS id FROM group_members WHERE group_id = $1 ORDER BY user_id', [groupId]),
  coMemberIds: (userId) =>
    ids(
      `SELECT DISTINCT others.user_id AS id FROM group_members mine
       JOIN group_members others ON others.group_id = mine.group_id AND others.user_id <> mine.user_id
       WHERE mine.user_id = $1 ORDER BY others.user_id`,
      [userId],
    ),
  groupsOf: (userId) =>
    rows<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) ORDER BY name_key, id`,
      [userId],
    ),
  invitation: (groupId, userId) =>
    row<InvitationRow>(`SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE group_id = $1 AND user_id = $2`, [groupId, userId]),
  invitationsOf: (userId) =>
    rows<InvitationRow>(
      `SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE user_id = $1 AND state = 'pending' ORDER BY since, group_id`,
      [userId],
    ),
  invitedIds: (groupId) => ids(`SELECT user_id AS id FROM group_invitations WHERE group_id = $1 AND state = 'pending' ORDER BY user_id`, [groupId]),
  *deleteInvitation(groupId, userId) {
    yield* run('DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
  },
  invite: (groupId, userId, inviterId, since) => setInvitation(groupId, userId, inviterId, 'pending', since),
  declineInvitation: (groupId, userId, inviterId, since) => setInvitation(groupId, userId, inviterId, 'declined', since),
};
