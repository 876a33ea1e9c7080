/**
 * The checks of a recorded history, Elle-style: each takes what the clients saw
 * (acknowledgements, pushes in arrival order, final views) and returns anomalies.
 */
export interface Anomaly {
  kind: 'lost-ack' | 'stored-twice' | 'push-order' | 'view-order' | 'own-message-missing' | 'client-gave-up';
  seed: number;
  detail: Record<string, unknown>;
}

export interface History {
  seed: number;
  /** clientMsgId → server id, per sender, as the sender's client acknowledged it. */
  acked: Map<string, { user: string; id: number }>;
  /** Per user connection, the ids of `message` pushes in arrival order. */
  pushes: Map<string, number[]>;
  /** Per user, the room history at the end (ids and clientMsgIds, oldest first). */
  views: Map<string, { id: number; clientMsgId: string; from: string }[]>;
}

export function check(history: History): Anomaly[] {
  const { seed } = history;
  const anomalies: Anomaly[] = [];
  for (const [user, view] of history.views) {
    const counts = new Map<string, number>();
    for (const m of view) counts.set(m.clientMsgId, (counts.get(m.clientMsgId) ?? 0) + 1);
    for (const [clientMsgId, { user: sender, id }] of history.acked) {
      const n = counts.get(clientMsgId) ?? 0;
      if (n === 0) anomalies.push({ kind: sender === user ? 'own-message-missing' : 'lost-ack', seed, detail: { conv: 'room', reader: user, sender, clientMsgId, id } });
      if (n > 1) anomalies.push({ kind: 'stored-twice', seed, detail: { conv: 'room', reader: user, clientMsgId, count: n } });
    }
    for (let i = 1; i < view.length; i++) {
      if (view[i]!.id <= view[i - 1]!.id) anomalies.push({ kind: 'view-order', seed, detail: { conv: 'room', reader: user, ids: [view[i - 1]!.id, view[i]!.id] } });
    }
  }
  // PROTOCOL §10: pushes on one connection come in id order.
  for (const [connection, ids] of history.pushes) {
    for (let i = 1; i < ids.length; i++) {
      if (ids[i]! <= ids[i - 1]!) anomalies.push({ kind: 'push-order', seed, detail: { connection, ids: [ids[i - 1], ids[i]] } });
    }
  }
  // One order for every reader: the views agree on the relative order of the ids they share.
  const views = [...history.views.entries()];
  for (let a = 1; a < views.length; a++) {
    const [first, firstView] = views[0]!;
    const [other, otherView] = views[a]!;
    const shared = new Set(otherView.map((m) => m.id));
    const left = firstView.map((m) => m.id).filter((id) => shared.has(id));
    const right = otherView.map((m) => m.id).filter((id) => left.includes(id));
    if (left.join() !== right.join()) anomalies.push({ kind: 'view-order', seed, detail: { conv: 'room', readers: [first, other] } });
  }
  return anomalies;
}
