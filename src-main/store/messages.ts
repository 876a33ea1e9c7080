/**
 * Storing messages, once for both engines: the ingest and send path. A batch is one transaction that
 * reads what decides each message's fate in one statement under the log lock, decides in order (not
 * allowed, over quota, a resend, or new), and stores the new ones with their usage, DM partners, files
 * and mentions in one more (PostgreSQL: one round trip; SQLite: one statement a table), whatever the
 * batch's size. A message is its own entry in the event log (migration 014): no conv_events row.
 *
 * Ids must increase in commit order across every node (a client syncs by `after: id`, so a message
 * committed after another with a smaller id would be skipped): the batch takes the log lock first,
 * and only then draws its ids (pg/store.ts). A batch pays for the lock once.
 */
import { foldForSearch } from '../../src-shared/fold.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { findMentions, type Mentioned } from './mentions.js';
import { lockLog, messages as messagesOf, records, row, rows, run, stored, transaction, type Dialect, type Queries, type Query } from './query.js';
import { DAY_MS } from './readers.js';
import { newlyStored, replyQuote } from './rows.js';
import type { InsertResult, NewMessage, NotAllowed, Store, StoredMessage } from './types.js';

export type MessageStore = Pick<Store, 'insertMessages'>;

const dayOf = (message: NewMessage): number => Math.floor(message.ts / DAY_MS);

/** What the batch reads under the log lock, each a JSON array (as text). */
interface LockedState {
  /** The batch's (sender, client id) pairs stored already: no other writer can store one meanwhile, it waits for the lock. */
  existing: string;
  /** The senders' bytes of the batch's days (read only when there is a cap). */
  usage: string;
  /** One id per message of the batch, ascending (those of resends and refusals go unused). */
  ids: string;
  /** The members of the batch's groups, the senders whose name is banned, and who was declined by their DM's recipient (NotAllowed). */
  members: string;
  banned: string;
  declined: string;
}

type Fate = { answer: InsertResult } | { duplicateOf: string } | { insert: number };

export function messageQueries(d: Dialect, maxUserBytesPerDay = Infinity): Queries<MessageStore> {
  /** Names of users, by id; names never change, so each is read once. */
  const names = new Map<number, string>();
  const readNames = function* (userIds: number[]): Query<void> {
    const unknown = [...new Set(userIds)].filter((id) => !names.has(id));
    if (unknown.length === 0) return;
    for (const user of yield* rows<{ id: number; name: string }>(`SELECT id, name FROM users WHERE id IN ${d.list('$1', 'bigint')}`, [unknown])) {
      names.set(user.id, user.name);
    }
  };

  const lockedState = (batch: NewMessage[]): Query<LockedState | undefined> =>
    row<LockedState>(
      `SELECT
         (SELECT ${d.jsonArray(`${d.jsonObject}('senderId', sender_id, 'clientMsgId', client_msg_id, 'id', id)`, 'id')}
          FROM messages WHERE (sender_id, client_msg_id) IN (SELECT sender, client FROM ${d.records('$1', [['sender', 'bigint'], ['client', 'text']])} AS sent)) AS existing,
         (SELECT ${d.jsonArray(`${d.jsonObject}('userId', user_id, 'day', day, 'bytes', bytes)`, 'user_id')}
          FROM daily_usage WHERE (user_id, day) IN (SELECT sender, day FROM ${d.records('$2', [['sender', 'bigint'], ['day', 'bigint']])} AS days)) AS usage,
         (SELECT ${d.jsonArray('id', 'id')} FROM (${d.eventIds('$3')}) AS drawn) AS ids,
         (SELECT ${d.jsonArray(`${d.jsonObject}('groupId', group_id, 'userId', user_id)`, 'user_id')}
          FROM group_members WHERE group_id IN ${d.list('$4', 'bigint')}) AS members,
         (SELECT ${d.jsonArray('u.id', 'u.id')} FROM users u JOIN bans b ON b.kind = 'name' AND b.value = u.name_key
          WHERE u.id IN ${d.list('$5', 'bigint')}) AS banned,
         (SELECT ${d.jsonArray(`${d.jsonObject}('senderId', requester_id, 'recipientId', user_low + user_high - requester_id)`, 'requester_id')}
          FROM relations WHERE state = 'declined'
            AND (user_low, user_high) IN (SELECT low, high FROM ${d.records('$6', [['low', 'bigint'], ['high', 'bigint']])} AS pairs)) AS declined`,
      [
        records(batch.map((message) => [message.senderId, d.text(message.clientMsgId)])),
        records(Number.isFinite(maxUserBytesPerDay) ? batch.map((message) => [message.senderId, dayOf(message)]) : []),
        batch.length,
        [...new Set(batch.flatMap((message) => (message.groupId === undefined ? [] : [message.groupId])))],
        [...new Set(batch.map((message) => message.senderId))],
        records(
          batch.flatMap(({ senderId, toUserId }) =>
            toUserId === undefined ? [] : [[Math.min(senderId, toUserId), Math.max(senderId, toUserId)]],
          ),
        ),
      ],
    );

  /** The new messages of a batch and all that goes with them, under the log lock with the ids drawn there. */
  const write = function* (fresh: { message: NewMessage; id: number; folded: string; mentioned: Mentioned[] }[]): Query<void> {
    const usage = new Map<string, [number, number, number]>();
    const partners = new Map<string, [number, number]>();
    for (const { message } of fresh) {
      const key = `${message.senderId}:${dayOf(message)}`;
      const day = usage.get(key) ?? [message.senderId, dayOf(message), 0];
      day[2] += Buffer.byteLength(message.text);
      usage.set(key, day);
      const { senderId, toUserId } = message;
      if (toUserId !== undefined) {
        partners.set(`${senderId}:${toUserId}`, [senderId, toUserId]);
        partners.set(`${toUserId}:${senderId}`, [toUserId, senderId]);
      }
    }
    const statements = d.together([
      `INSERT INTO messages (id, conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments)
       SELECT * FROM ${d.records('$1', [
         ['id', 'bigint'], ['conv', 'text'], ['sender_id', 'bigint'], ['to_user_id', 'bigint'], ['group_id', 'bigint'], ['client_msg_id', 'text'],
         ['text', 'text'], ['folded', 'text'], ['ts', 'bigint'], ['reply_to', 'bigint'], ['attachments', 'text'],
       ])} AS fresh`,
      `INSERT INTO daily_usage (user_id, day, bytes) SELECT * FROM ${d.records('$2', [['user_id', 'bigint'], ['day', 'bigint'], ['bytes', 'bigint']])} AS added
       WHERE true ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes`,
      `INSERT INTO dm_partners (user_id, partner_id) SELECT * FROM ${d.records('$3', [['user_id', 'bigint'], ['partner_id', 'bigint']])} AS pairs
       WHERE true ON CONFLICT DO NOTHING`,
      // Only files of the sender's that no message carries yet (the server checked them before).
      `UPDATE files SET message_id = attached.message_id
       FROM ${d.records('$4', [['file_id', 'text'], ['message_id', 'bigint'], ['uploader_id', 'bigint']])} AS attached
       WHERE files.id = attached.file_id AND files.uploader_id = attached.uploader_id AND files.message_id IS NULL`,
      `INSERT INTO mentions (user_id, conv, message_id) SELECT * FROM ${d.records('$5', [['user_id', 'bigint'], ['conv', 'text'], ['message_id', 'bigint']])} AS mentioned
       WHERE true ON CONFLICT DO NOTHING`,
    ]);
    const values = [
      records(
        fresh.map(({ message: { conv, senderId, toUserId, groupId, clientMsgId, text, ts, replyTo, attachments }, id, folded }) => [
          id, conv, senderId, toUserId ?? null, groupId ?? null, d.text(clientMsgId),
          d.text(text), d.folded(text, folded), ts, replyTo ?? null, attachments ? JSON.stringify(attachments) : null,
        ]),
      ),
      records([...usage.values()]),
      records([...partners.values()]),
      records(fresh.flatMap(({ message, id }) => (message.attachments ?? []).map((file) => [file.id, id, message.senderId]))),
      records(fresh.flatMap(({ message, id, mentioned }) => mentioned.map((user) => [user.id, message.conv, id]))),
    ];
    // Each statement takes only its own placeholders: PostgreSQL's one statement takes all five.
    for (const text of statements) yield* run(text, values);
  };

  const insertBatch = function* (batch: NewMessage[]): Query<InsertResult[]> {
    // Before the lock, so it is held for less: what decides neither ids, resends nor quotas.
    yield* readNames(batch.flatMap((message) => (message.toUserId === undefined ? [message.senderId] : [message.senderId, message.toUserId])));
    const mentioned: Mentioned[][] = [];
    for (const message of batch) mentioned.push(yield* findMentions(d, message.conv, message.text));
    const replyIds = batch.flatMap((message) => (message.replyTo === undefined ? [] : [message.replyTo]));
    const originals = new Map((replyIds.length === 0 ? [] : yield* messagesOf(replyIds)).map((message) => [message.id, message]));

    yield* lockLog();
    const state = (yield* lockedState(batch))!;
    const keyOf = (senderId: number, clientMsgId: string): string => `${senderId}:${d.text(clientMsgId)}`;
    const existing = new Map(
      (JSON.parse(state.existing) as { senderId: number; clientMsgId: string; id: number }[]).map((found) => [`${found.senderId}:${found.clientMsgId}`, found.id]),
    );
    const used = new Map((JSON.parse(state.usage) as { userId: number; day: number; bytes: number }[]).map((day) => [`${day.userId}:${day.day}`, day.bytes]));
    const ids = JSON.parse(state.ids) as number[];
    const members = new Map<number, number[]>();
    for (const { groupId, userId } of JSON.parse(state.members) as { groupId: number; userId: number }[]) {
      members.set(groupId, [...(members.get(groupId) ?? []), userId]);
    }
    const banned = new Set(JSON.parse(state.banned) as number[]);
    const declined = new Set((JSON.parse(state.declined) as { senderId: number; recipientId: number }[]).map((pair) => `${pair.senderId}:${pair.recipientId}`));
    const notAllowed = ({ senderId, groupId, toUserId }: NewMessage): NotAllowed['notAllowed'] | null => {
      if (banned.has(senderId)) return 'banned';
      if (groupId !== undefined && !(members.get(groupId) ?? []).includes(senderId)) return 'group';
      if (toUserId !== undefined && declined.has(`${senderId}:${toUserId}`)) return 'declined';
      return null;
    };

    const fates: Fate[] = [];
    const fresh: { message: NewMessage; id: number; folded: string; mentioned: Mentioned[]; built: StoredMessage }[] = [];
    const inBatch = new Map<string, number>();
    batch.forEach((message, index) => {
      const key = keyOf(message.senderId, message.clientMsgId);
      const day = dayOf(message);
      const usageKey = `${message.senderId}:${day}`;
      const bytes = Buffer.byteLength(message.text);
      const known = existing.has(key) || inBatch.has(key);
      const refused = known ? null : notAllowed(message);
      if (known) {
        fates.push({ duplicateOf: key });
      } else if (refused) {
        fates.push({ answer: { notAllowed: refused } });
      } else if ((used.get(usageKey) ?? 0) + bytes > maxUserBytesPerDay) {
        fates.push({ answer: { overDailyQuota: { limit: maxUserBytesPerDay, retryAfterMs: (day + 1) * DAY_MS - message.ts } } });
      } else {
        used.set(usageKey, (used.get(usageKey) ?? 0) + bytes);
        const id = ids[fresh.length]!;
        inBatch.set(key, fresh.length);
        fates.push({ insert: fresh.length });
        const original = message.replyTo === undefined ? undefined : originals.get(message.replyTo);
        const quote = original && replyQuote(original.id, original.from, original.text, original.deleted === true);
        // File names are searched like the caption (docs/PROTOCOL.md §18).
        const folded = foldForSearch([message.text, ...(message.attachments ?? []).map((file) => file.name)].join('\n'));
        const built = newlyStored(id, message, (userId) => names.get(userId)!, quote, mentioned[index]!, () => members.get(message.groupId!) ?? []);
        fresh.push({ message, id, folded, mentioned: mentioned[index]!, built });
      }
    });
    if (fresh.length > 0) {
      yield* write(fresh);
      yield* stored(fresh.map(({ id, folded }) => ({ id, folded })));
    }

    const resent = new Map<string, ChatMessage>();
    const resentIds = [...existing.values()];
    if (resentIds.length > 0) {
      const byId = new Map((yield* messagesOf(resentIds)).map((message) => [message.id, message]));
      for (const [key, id] of existing) resent.set(key, byId.get(id)!);
    }
    return fates.map((fate): InsertResult => {
      if ('answer' in fate) return fate.answer;
      if ('insert' in fate) return fresh[fate.insert]!.built;
      const position = inBatch.get(fate.duplicateOf);
      return { message: position === undefined ? resent.get(fate.duplicateOf)! : fresh[position]!.built.message, duplicate: true };
    });
  };

  return {
    insertMessages: (batch) => transaction(insertBatch(batch)),
  };
}
