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
  | 'send-unanswered';

export interface Anomaly {
  kind: AnomalyKind;
  seed: number;
  detail: Record<string, unknown>;
}

/** A message as a reader holds it. */
export interface Seen {
  id: number;
  clientMsgId: string;
  conv: string;
}

export interface History {
  seed: number;
  /** clientMsgId → its sender, the id its client acknowledged, its conversation. */
  acked: Map<string, { user: string; id: number; conv: string }>;
  /** Per conversation, who may read it. */
  readers: Map<string, ReadonlySet<string>>;
  /** Per user connection, others' message pushes in arrival order. */
  pushes: Map<string, Seen[]>;
  /** Per user, what the app showed: every message its client emitted (live, caught up, its own once stored). */
  shown: Map<string, Seen[]>;
  /** Per user, per conversation, the history read at the end (oldest first). */
  views: Map<string, Map<string, Seen[]>>;
  /** The final database: clientMsgId → the ids stored under it. */
  stored: Map<string, number[]>;
}

function counts(messages: readonly Seen[]): Map<string, number> {
  const counted = new Map<string, number>();
  for (const m of messages) counted.set(m.clientMsgId, (counted.get(m.clientMsgId) ?? 0) + 1);
  return counted;
}

export function check(history: History): Anomaly[] {
  const { seed } = history;
  const anomalies: Anomaly[] = [];
  const add = (kind: AnomalyKind, detail: Record<string, unknown>): void => void anomalies.push({ kind, seed, detail });

  // Every acknowledged message stored once, under the id its sender was told.
  for (const [clientMsgId, { user, id, conv }] of history.acked) {
    const ids = history.stored.get(clientMsgId) ?? [];
    if (ids.length === 0) add('lost-ack', { where: 'database', conv, sender: user, clientMsgId, id });
    if (ids.length > 1) add('stored-twice', { where: 'database', conv, clientMsgId, ids });
    if (ids.length === 1 && ids[0] !== id) add('ack-mismatch', { conv, sender: user, clientMsgId, acked: id, stored: ids[0] });
  }

  // Once in every allowed reader's app and final history; never with anyone else.
  const readable = (user: string, conv: string): boolean => history.readers.get(conv)?.has(user) ?? false;
  const views: { user: string; where: 'app' | 'history'; conv?: string; view: Seen[] }[] = [
    ...[...history.shown].map(([user, view]) => ({ user, where: 'app' as const, view })),
    ...[...history.views].flatMap(([user, convs]) => [...convs].map(([conv, view]) => ({ user, where: 'history' as const, conv, view }))),
  ];
  for (const { user, where, conv: only, view } of views) {
    const counted = counts(view);
    for (const [clientMsgId, { user: sender, id, conv }] of history.acked) {
      if (!readable(user, conv) || (only !== undefined && conv !== only)) continue;
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
    for (const m of view) if (!readable(user, m.conv)) add('stranger-push', { where, conv: m.conv, reader: user, id: m.id, clientMsgId: m.clientMsgId });
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
  return anomalies;
}
