/** Groups, their members and invitations, and the membership lines of their histories; deleting a group deletes its messages. */
import { randomUUID } from 'node:crypto';
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { MESSAGE_SELECT, toChatMessage, unlessTaken, type Db, type MessageRecord } from './rows.js';
import type { GroupMethod, GroupRow, InvitationRow, InvitationState, NewGroupEvent, Store, StoredLine } from './types.js';

const GROUP_COLUMNS = 'id, name, name_key AS nameKey, owner_id AS ownerId, created_at AS createdAt';
const INVITATION_COLUMNS = 'group_id AS groupId, user_id AS userId, inviter_id AS inviterId, state, since';

type GroupStore = Pick<Store, GroupMethod>;

export function groupQueries(db: Db): GroupStore {
  const insertGroup = db.prepare<[string, string, number, number], GroupRow>(
    `INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES (?, ?, ?, ?) RETURNING ${GROUP_COLUMNS}`,
  );
  const groupById = db.prepare<[number], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id = ?`);
  const renameGroup = db.prepare<[string, string, number]>('UPDATE chat_groups SET name = ?, name_key = ? WHERE id = ?');
  const deleteConversation = db.prepare<[string]>('DELETE FROM messages WHERE conv = ?');
  const deleteGroup = db.prepare<[number]>('DELETE FROM chat_groups WHERE id = ?');
  const addMember = db.prepare<[number, number]>('INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)');
  const removeMember = db.prepare<[number, number]>('DELETE FROM group_members WHERE group_id = ? AND user_id = ?');
  const isMember = db.prepare<[number, number], number>('SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?').pluck();
  const memberIds = db.prepare<[number], number>('SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id').pluck();
  const groupsOf = db.prepare<[number], GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM chat_groups
     WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ?)
     ORDER BY name_key, id`,
  );
  const invitation = db.prepare<[number, number], InvitationRow>(
    `SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE group_id = ? AND user_id = ?`,
  );
  const invitationsOf = db.prepare<[number], InvitationRow>(
    `SELECT ${INVITATION_COLUMNS} FROM group_invitations WHERE user_id = ? AND state = 'pending' ORDER BY since, group_id`,
  );
  const invitedIds = db
    .prepare<[number], number>(`SELECT user_id FROM group_invitations WHERE group_id = ? AND state = 'pending' ORDER BY user_id`)
    .pluck();
  const deleteInvitation = db.prepare<[number, number]>('DELETE FROM group_invitations WHERE group_id = ? AND user_id = ?');
  const setInvitation = db.prepare<{ groupId: number; userId: number; inviterId: number; state: InvitationState; since: number }>(
    `INSERT INTO group_invitations (group_id, user_id, inviter_id, state, since)
     VALUES (@groupId, @userId, @inviterId, @state, @since)
     ON CONFLICT (group_id, user_id) DO UPDATE
       SET inviter_id = excluded.inviter_id, state = excluded.state, since = excluded.since`,
  );
  // Not counted in the actor's daily quota (nobody wrote them), and not in the search index (no text to find).
  const insertEvent = db.prepare<{ conv: string; actorId: number; groupId: number; clientMsgId: string; text: string; event: string; ts: number }>(
    `INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts, group_event)
     VALUES (@conv, @actorId, @groupId, @clientMsgId, @text, '', @ts, @event)`,
  );
  const messageById = db.prepare<[number], MessageRecord>(`${MESSAGE_SELECT} WHERE m.id = ?`);

  const createWithOwner = db.transaction((name: string, nameKey: string, ownerId: number, createdAt: number) => {
    const group = insertGroup.get(name, nameKey, ownerId, createdAt)!;
    addMember.run(group.id, ownerId);
    return group;
  });
  const deleteWithMessages = db.transaction((id: number) => {
    // The group first: its trigger finds the reactions and mentions to drop through the messages (migration 014).
    deleteGroup.run(id);
    deleteConversation.run(groupConversation(id));
  });
  const storeEvent = ({ groupId, actorId, event, text }: NewGroupEvent, ts: number): StoredLine => {
    const conv = groupConversation(groupId);
    const { lastInsertRowid } = insertEvent.run({
      conv,
      actorId,
      groupId,
      // Generated here: unique per sender like a client's, and never one a client chose.
      clientMsgId: `group-event:${randomUUID()}`,
      text,
      event: JSON.stringify(event),
      ts,
    });
    const id = Number(lastInsertRowid);
    // A line, like a message, is its own entry in the event log (migration 014).
    return { message: toChatMessage(messageById.get(id)!), eventId: id };
  };
  const changeGroups = db.transaction((ts: number, change: () => { result: unknown; events: NewGroupEvent[] }) => {
    const { result, events } = change();
    return { result, lines: events.map((event) => storeEvent(event, ts)) };
  });
  const taken = (name: string): string => `a group named "${name}" already exists`;

  return {
    createGroup: (name, nameKey, ownerId, createdAt) =>
      unlessTaken(taken(name), () => createWithOwner(name, nameKey, ownerId, createdAt)),
    groupById: (id) => groupById.get(id),
    renameGroup: (id, name, nameKey) => unlessTaken(taken(name), () => void renameGroup.run(name, nameKey, id)),
    deleteGroup: (id) => deleteWithMessages(id),
    addMember: (groupId, userId) => void addMember.run(groupId, userId),
    removeMember: (groupId, userId) => void removeMember.run(groupId, userId),
    isMember: (groupId, userId) => isMember.get(groupId, userId) !== undefined,
    memberIds: (groupId) => memberIds.all(groupId),
    groupsOf: (userId) => groupsOf.all(userId),
    invitation: (groupId, userId) => invitation.get(groupId, userId),
    invitationsOf: (userId) => invitationsOf.all(userId),
    invitedIds: (groupId) => invitedIds.all(groupId),
    deleteInvitation: (groupId, userId) => void deleteInvitation.run(groupId, userId),
    changeGroups: <T>(ts: number, change: () => { result: T; events: NewGroupEvent[] }) =>
      changeGroups(ts, change) as { result: T; lines: StoredLine[] },
    invite: (groupId, userId, inviterId, since) => void setInvitation.run({ groupId, userId, inviterId, state: 'pending', since }),
    declineInvitation: (groupId, userId, inviterId, since) =>
      void setInvitation.run({ groupId, userId, inviterId, state: 'declined', since }),
  };
}
