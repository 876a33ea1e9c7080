/**
 * The checks of a recorded history, Elle-style: each takes what the clients saw
 * (acknowledgements, pushes in arrival order, final views) and the final database rows,
 * and returns anomalies.
 */
export type AnomalyKind =
  | 'lost-ack'
  | 'stored-twice'
  | 'shown-twice'
  | 'ack-mismatch'
  | 'push-order'
  | 'view-order'
  | 'stranger-push'
  | 'own-message-missing'
  | 'client-gave-up'
  | 'send-refused'
  | 'send-unanswered'
  | 'request-unanswered'
  | 'removed-sender-stored'
  | 'removed-reader-push'
  | 'deleted-group-stored'
  | 'change-diverged'
  | 'change-lost'
  | 'change-refused'
  | 'read-lost'
  | 'app-stale';

export interface Anomaly {
  kind: AnomalyKind;
  seed: number;
  detail: Record<string, unknown>;
}

/** A message as a reader holds it; where the state is known, its text, whether deleted, its reactions ("user emoji", sorted). */
export interface Seen {
  id: number;
  clientMsgId: string;
  conv: string;
  text?: string;
  deleted?: boolean;
  reactions?: string[];
}

/** A stretch of a user's membership of a group: messages with ids after `from` (their `created` or `joined` line) and before `to` (their `removed` or `left` line; null: still a member). */
export interface Interval {
  from: number;
  to: number | null;
}

export interface Group {
  /** Per user, their memberships in id order, from the group's membership lines (PROTOCOL §6.4.1). */
  members: Map<string, Interval[]>;
  /** Deleted by its owner: its messages are gone for everyone (§7.16). */
  deleted: boolean;
}

/**
 * An edit, delete, reaction or read mark as the workload asked for it and its answer: `ok`, `unknown`
 * (the link went, no answer in time, or INTERNAL: it may or may not have been stored) or `refused`.
 */
export interface Change {
  user: string;
  kind: 'edit' | 'delete' | 'react' | 'read';
  conv: string;
  messageId?: number;
  text?: string;
  emoji?: string;
  on?: boolean;
  /** read: the position asked for. */
  upTo?: number;
  outcome: 'ok' | 'unknown' | 'refused';
  code?: string;
  /** read: the position answered. */
  answeredUpTo?: number;
  /**
   * The order the user made their changes in: each user's changes go one at a time, so they are stored
   * in this order, but for an `unknown` one, whose commit may still come later (a stalled node).
   */
  seq: number;
  /** When the answer came (ms, the workload's clock). */
  at: number;
}

/**
 * The codes of a change whose answer did not come (the link went, no answer in time) or that the host failed
 * (INTERNAL, "not carried out", counted here as unknown all the same): it may have been stored.
 */
export const UNCERTAIN: ReadonlySet<string> = new Set(['DISCONNECTED', 'TIMEOUT', 'PROTOCOL_ERROR', 'CLOSED', 'INTERNAL']);

/** A group taken from a user (removed, or left), or from everyone (user null: deleted); `at`: when the workload asked for it. */
export interface Removal {
  conv: string;
  user: string | null;
  at: number;
}

export interface History {
  seed: number;
  /** clientMsgId → its sender, the id its client acknowledged, its conversation. */
  acked: Map<string, { user: string; id: number; conv: string }>;
  /** Every send the workload made, acknowledged or not: clientMsgId → sender, conversation (a direct one's key is the host's: none), text. */
  sent: Map<string, { user: string; conv?: string; text: string }>;
  /** Per room or direct conversation, who may read it. */
  readers: Map<string, ReadonlySet<string>>;
  /** Per group conversation, who was a member when. */
  groups: Map<string, Group>;
  /** Per user connection ("user#n", n counting its clients), others' messages in the order its client emitted them. */
  pushes: Map<string, Seen[]>;
  /** Per user, what the app showed: every message its clients emitted (live, caught up, its own once stored). */
  shown: Map<string, Seen[]>;
  /** Per user, every message its app holds, as it is after the changes its clients emitted (log order). */
  app: Map<string, Map<number, Seen>>;
  /** Per user, per conversation, the read position its clients' own `read` events left. */
  appReads: Map<string, Map<string, number>>;
  /** Per user, per conversation, the history read at the end (oldest first), with each message's state. */
  views: Map<string, Map<string, Seen[]>>;
  /** Per user, per conversation, the read position `readState` answered at the end. */
  readState: Map<string, Map<string, number>>;
  /** The final database: clientMsgId → the ids stored under it. */
  stored: Map<string, number[]>;
  changes: Change[];
  /** Sends refused for good (`sendFailed`), with when. */
  refusals: { user: string; clientMsgId: string; conv: string; code: string; at: number }[];
  removals: Removal[];
}

function counts(messages: readonly Seen[]): Map<string, number> {
  const counted = new Map<string, number>();
  for (const m of messages) counted.set(m.clientMsgId, (counted.get(m.clientMsgId) ?? 0) + 1);
  return counted;
}

const stateOf = (m: Seen): string => JSON.stringify(m.deleted ? ['deleted'] : [m.text, m.reactions ?? []]);

/** Whose app must show a message: a reader since before it and ever after (one removed meanwhile may have missed it). */
export function mustShowIn(history: Pick<History, 'readers' | 'groups'>, user: string, conv: string, id: number): boolean {
  const group = history.groups.get(conv);
  if (!group) return history.readers.get(conv)?.has(user) ?? false;
  return !group.deleted && (group.members.get(user) ?? []).some((i) => i.from < id && i.to === null);
}

export function check(history: History): Anomaly[] {
  const { seed } = history;
  const anomalies: Anomaly[] = [];
  const add = (kind: AnomalyKind, detail: Record<string, unknown>): void => void anomalies.push({ kind, seed, detail });

  const memberAt = (user: string, conv: string, id: number): boolean =>
    (history.groups.get(conv)?.members.get(user) ?? []).some((i) => i.from < id && (i.to === null || id < i.to));
  /** Readers at the end: a group's current members read its whole history (§7.21); a deleted group nobody. */
  const readsAtEnd = (user: string, conv: string): boolean => {
    const group = history.groups.get(conv);
    if (!group) return history.readers.get(conv)?.has(user) ?? false;
    return !group.deleted && (group.members.get(user)?.at(-1)?.to === null);
  };
  const mustShow = (user: string, conv: string, id: number): boolean => mustShowIn(history, user, conv, id);
  /** Who may get it: a member when it was stored, or one who joined later and so reads the whole history. */
  const mayGet = (user: string, conv: string, id: number): boolean => {
    const group = history.groups.get(conv);
    if (!group) return history.readers.get(conv)?.has(user) ?? false;
    return memberAt(user, conv, id) || (group.members.get(user) ?? []).some((i) => i.from > id);
  };
  const lostMembership = (user: string, conv: string, before: number): boolean =>
    history.removals.some((r) => r.conv === conv && (r.user === null || r.user === user) && r.at <= before);

  // Every acknowledged message stored once, under the id its sender was told; none of a deleted group's.
  for (const [clientMsgId, { user, id, conv }] of history.acked) {
    if (history.groups.get(conv)?.deleted) continue;
    const ids = history.stored.get(clientMsgId) ?? [];
    if (ids.length === 0) add('lost-ack', { where: 'database', conv, sender: user, clientMsgId, id });
    if (ids.length > 1) add('stored-twice', { where: 'database', conv, clientMsgId, ids });
    if (ids.length === 1 && ids[0] !== id) add('ack-mismatch', { conv, sender: user, clientMsgId, acked: id, stored: ids[0] });
  }
  // Nothing stored from a member after the change that removed them (PROTOCOL §7.4: checked again as it is stored).
  for (const [clientMsgId, ids] of history.stored) {
    const sent = history.sent.get(clientMsgId);
    const group = sent?.conv !== undefined ? history.groups.get(sent.conv) : undefined;
    if (!sent?.conv || !group) continue;
    if (group.deleted) add('deleted-group-stored', { conv: sent.conv, sender: sent.user, clientMsgId, ids });
    else for (const id of ids) if (!memberAt(sent.user, sent.conv, id)) add('removed-sender-stored', { conv: sent.conv, sender: sent.user, clientMsgId, id, memberships: group.members.get(sent.user) ?? [] });
  }

  // Once in every allowed reader's app and final history; never with anyone else.
  const views: { user: string; where: 'app' | 'history'; conv?: string; view: Seen[] }[] = [
    ...[...history.shown].map(([user, view]) => ({ user, where: 'app' as const, view })),
    ...[...history.views].flatMap(([user, convs]) => [...convs].map(([conv, view]) => ({ user, where: 'history' as const, conv, view }))),
  ];
  for (const { user, where, conv: only, view } of views) {
    const counted = counts(view);
    for (const [clientMsgId, { user: sender, id, conv }] of history.acked) {
      if (only !== undefined && conv !== only) continue;
      if (!(where === 'app' ? mustShow(user, conv, id) : readsAtEnd(user, conv))) continue;
      const n = counted.get(clientMsgId) ?? 0;
      if (n === 0) {
        // In the app, what it showed around the first higher id: a higher id shown before this one was
        // stored, or pushed, makes the client skip it as seen (PROTOCOL §10).
        const k = view.findIndex((m) => m.id > id);
        const around = where === 'app' && k >= 0 ? { shownAround: view.slice(Math.max(0, k - 3), k + 3).map((m) => m.id) } : {};
        add(sender === user ? 'own-message-missing' : 'lost-ack', { where, conv, reader: user, sender, clientMsgId, id, ...around });
      }
      if (n > 1) add(where === 'app' ? 'shown-twice' : 'stored-twice', { where, conv, reader: user, clientMsgId, count: n });
    }
    for (const m of view) {
      if (where === 'app' ? mayGet(user, m.conv, m.id) : readsAtEnd(user, m.conv)) continue;
      const removed = (history.groups.get(m.conv)?.members.get(user) ?? []).some((i) => i.to !== null && i.to < m.id);
      add(removed ? 'removed-reader-push' : 'stranger-push', { where, conv: m.conv, reader: user, id: m.id, clientMsgId: m.clientMsgId });
    }
  }

  // PROTOCOL §10: others' messages come on one connection in id order.
  for (const [connection, pushed] of history.pushes) {
    for (let i = 1; i < pushed.length; i++) {
      if (pushed[i]!.id <= pushed[i - 1]!.id) add('push-order', { connection, ids: [pushed[i - 1]!.id, pushed[i]!.id], convs: [pushed[i - 1]!.conv, pushed[i]!.conv] });
    }
  }

  // One order per conversation: each reader's history in id order, and the readers agreeing on the ids they share.
  const byConv = new Map<string, [string, Seen[]][]>();
  for (const [user, convs] of history.views) {
    for (const [conv, view] of convs) {
      for (let i = 1; i < view.length; i++) {
        if (view[i]!.id <= view[i - 1]!.id) add('view-order', { conv, reader: user, ids: [view[i - 1]!.id, view[i]!.id] });
      }
      byConv.set(conv, [...(byConv.get(conv) ?? []), [user, view]]);
    }
  }
  for (const [conv, readers] of byConv) {
    const [first, firstView] = readers[0]!;
    for (const [other, otherView] of readers.slice(1)) {
      const shared = new Set(otherView.map((m) => m.id));
      const left = firstView.map((m) => m.id).filter((id) => shared.has(id));
      const inLeft = new Set(left);
      const right = otherView.map((m) => m.id).filter((id) => inLeft.has(id));
      if (left.join() !== right.join()) add('view-order', { conv, readers: [first, other] });
    }
  }

  anomalies.push(...checkChanges(history, lostMembership));

  // The app's refusals of sends: only a group's, once the sender was removed from it or it was deleted (§7.4).
  for (const refusal of history.refusals) {
    const legitimate = refusal.code === 'UNKNOWN_GROUP' && lostMembership(refusal.user, refusal.conv, refusal.at);
    if (!legitimate) add('send-refused', { ...refusal });
  }
  return anomalies;
}

/**
 * Edits, deletes, reactions and read marks converge: every reader's final history shows each message
 * in one state, the one its acknowledged changes say, and each app holds that state too.
 */
function checkChanges(history: History, lostMembership: (user: string, conv: string, before: number) => boolean): Anomaly[] {
  const { seed } = history;
  const anomalies: Anomaly[] = [];
  const add = (kind: AnomalyKind, detail: Record<string, unknown>): void => void anomalies.push({ kind, seed, detail });

  // One state per message among the readers' final histories.
  const final = new Map<number, Seen>();
  for (const [user, convs] of history.views) {
    for (const view of convs.values()) {
      for (const m of view) {
        const other = final.get(m.id);
        if (!other) final.set(m.id, m);
        else if (stateOf(other) !== stateOf(m)) add('change-diverged', { conv: m.conv, id: m.id, reader: user, state: stateOf(m), other: stateOf(other) });
      }
    }
  }

  // Each part of a message's state is one user's to change: its text and deletion its sender's, each
  // reaction its reactor's. A user's changes go one at a time, so the last acknowledged one of each part
  // holds at the end, unless one whose answer was lost (`unknown`) was stored and holds instead.
  const byMessage = new Map<number, Change[]>();
  for (const change of history.changes) if (change.messageId !== undefined) byMessage.set(change.messageId, [...(byMessage.get(change.messageId) ?? []), change]);
  const lastOk = (changes: Change[]): Change | undefined => changes.filter((c) => c.outcome === 'ok').sort((a, b) => a.seq - b.seq).at(-1);
  for (const [id, m] of final) {
    // A message without its state: nothing to compare.
    if (m.text === undefined && !m.deleted) continue;
    const changes = byMessage.get(id) ?? [];
    const deletes = changes.filter((c) => c.kind === 'delete');
    const deletedOk = deletes.some((c) => c.outcome === 'ok');
    const deletedMaybe = deletes.some((c) => c.outcome === 'unknown');
    if (deletedOk && !m.deleted) add('change-lost', { conv: m.conv, id, part: 'delete', state: stateOf(m) });
    if (m.deleted && !deletedOk && !deletedMaybe) add('change-lost', { conv: m.conv, id, part: 'delete', state: stateOf(m), deletedBy: 'nobody acknowledged' });
    if (m.deleted) continue;
    const edits = changes.filter((c) => c.kind === 'edit');
    const original = history.sent.get(m.clientMsgId)?.text;
    const last = lastOk(edits);
    const allowed = new Set([last ? last.text : original, ...edits.filter((c) => c.outcome === 'unknown').map((c) => c.text)]);
    if (!allowed.has(m.text)) add('change-lost', { conv: m.conv, id, part: 'text', text: m.text, allowed: [...allowed] });
    const reactions = new Set(m.reactions ?? []);
    const keys = new Set([...reactions, ...changes.filter((c) => c.kind === 'react').map((c) => `${c.user} ${c.emoji}`)]);
    for (const key of keys) {
      const mine = changes.filter((c) => c.kind === 'react' && `${c.user} ${c.emoji}` === key);
      const lastReact = lastOk(mine);
      const possible = new Set([lastReact ? lastReact.on : false, ...mine.filter((c) => c.outcome === 'unknown').map((c) => c.on)]);
      if (!possible.has(reactions.has(key))) add('change-lost', { conv: m.conv, id, part: 'reaction', reaction: key, shown: reactions.has(key), acknowledged: lastReact?.on ?? false });
    }
  }

  // Refusals the protocol gives for a target gone meanwhile (§17): MESSAGE_DELETED for a deleted message;
  // UNKNOWN_MESSAGE or (read) UNKNOWN_CONVERSATION once the user left the group, was removed or it was
  // deleted; RATE_LIMITED (changeRate, §15.1), which changes nothing. Anything else the workload did not
  // ask wrongly (its own messages only for edit and delete, in conversations it reads).
  for (const change of history.changes) {
    if (change.outcome !== 'refused') continue;
    const m = change.messageId !== undefined ? final.get(change.messageId) : undefined;
    const legitimate =
      change.code === 'RATE_LIMITED' ||
      (change.code === 'MESSAGE_DELETED' && (m === undefined || m.deleted === true)) ||
      ((change.code === 'UNKNOWN_MESSAGE' || change.code === 'UNKNOWN_CONVERSATION') && lostMembership(change.user, change.conv, change.at));
    if (!legitimate) add('change-refused', { ...change });
  }

  // Read marks: each user's final position is the highest acknowledged, or one asked for without an answer.
  const reads = new Map<string, Change[]>();
  for (const change of history.changes) if (change.kind === 'read') reads.set(`${change.user} ${change.conv}`, [...(reads.get(`${change.user} ${change.conv}`) ?? []), change]);
  for (const [key, changes] of reads) {
    const { user, conv } = changes[0]!;
    const position = history.readState.get(user)?.get(conv);
    if (position === undefined || interrupted(history, user, conv)) continue;
    const acknowledged = Math.max(0, ...changes.filter((c) => c.outcome === 'ok').map((c) => c.answeredUpTo!));
    const highest = Math.max(acknowledged, ...changes.filter((c) => c.outcome === 'unknown').map((c) => c.upTo!));
    if (position < acknowledged || position > highest) add('read-lost', { reader: key, conv, position, acknowledged, highest });
    const inApp = history.appReads.get(user)?.get(conv) ?? 0;
    if (inApp !== position) add('app-stale', { where: 'read', reader: user, conv, app: inApp, position });
  }

  // The app holds each message as the final history shows it: it applied every change's event.
  for (const [user, convs] of history.views) {
    const app = history.app.get(user) ?? new Map<number, Seen>();
    for (const [conv, view] of convs) {
      if (interrupted(history, user, conv)) continue;
      for (const m of view) {
        const held = app.get(m.id);
        if (held && stateOf(held) !== stateOf(m)) add('app-stale', { where: 'message', reader: user, conv, id: m.id, app: stateOf(held), history: stateOf(m) });
      }
    }
  }
  return anomalies;
}

/** A group the user was removed from and added to again: the changes made meanwhile never reached their app. */
function interrupted(history: History, user: string, conv: string): boolean {
  return (history.groups.get(conv)?.members.get(user)?.length ?? 0) > 1;
}
