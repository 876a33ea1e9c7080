/** Groups and their members; deleting a group deletes its messages. */
import { groupConversation } from '../../src-shared/protocol/conversation.js';
import { unlessTaken, type Db } from './rows.js';
import type { GroupRow, Store } from './types.js';

const GROUP_COLUMNS = 'id, name, name_key AS nameKey, owner_id AS ownerId, created_at AS createdAt';

type GroupStore = Pick<
  Store,
  'createGroup' | 'groupById' | 'renameGroup' | 'deleteGroup' | 'addMember' | 'removeMember' | 'isMember' | 'memberIds' | 'groupsOf'
>;

export function groupQueries(db: Db): GroupStore {
  const insertGroup = db.prepare<[string, string, number, number], GroupRow>(
    `INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES (?, ?, ?, ?) RETURNING ${GROUP_COLUMNS}`,
  );
  const groupById = db.prepare<[number], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id = ?`);
  const renameGroup = db.prepare<[string, string, number]>('UPDATE chat_groups SET name = ?, name_key = ? WHERE id = ?');
  const unindexConversation = db.prepare<[string]>(
    `INSERT INTO message_search (message_search, rowid, folded)
     SELECT 'delete', id, folded FROM messages WHERE conv = ?`,
  );
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

  const createWithOwner = db.transaction((name: string, nameKey: string, ownerId: number, createdAt: number) => {
    const group = insertGroup.get(name, nameKey, ownerId, createdAt)!;
    addMember.run(group.id, ownerId);
    return group;
  });
  const deleteWithMessages = db.transaction((id: number) => {
    unindexConversation.run(groupConversation(id));
    deleteConversation.run(groupConversation(id));
    deleteGroup.run(id);
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
  };
}
