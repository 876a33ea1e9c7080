/**
 * The cluster's bookkeeping of the other nodes (docs/CLUSTER.md, "The bus"): which nodes are
 * heard from, who is logged in on each, and which users that puts online elsewhere. Only the cluster's
 * fan-out keeps one (outbound/cluster-fan-out.ts); a lone host has no other nodes.
 */
import type { ServerLog } from './log.js';

/** What this node knows of another node of the cluster. */
interface OtherNode {
  /** Its logged-in users, by id, with their names. */
  users: Map<number, string>;
  heardAt: number;
}

export class OtherNodes {
  /** The other nodes heard from, by node id. */
  private readonly nodes = new Map<string, OtherNode>();
  /** On how many other nodes each user is logged in. */
  private readonly elsewhere = new Map<number, number>();

  constructor(
    private readonly log: ServerLog,
    /** The user came online on some other node, or is now online on none of them. */
    private readonly changed: (userId: number, name: string, ts: number) => void,
    /** The node stopped or went silent. */
    private readonly gone: (nodeId: string) => void = () => undefined,
  ) {}

  /** Whether the user is logged in on another node. */
  has(userId: number): boolean {
    return this.elsewhere.has(userId);
  }

  /** Whether anyone but `me` is logged in on another node. */
  anyoneBut(me: number): boolean {
    return this.elsewhere.size > (this.elsewhere.has(me) ? 1 : 0);
  }

  /** The node said something: it is alive, and known from now on. */
  heard(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (node) {
      node.heardAt = Date.now();
      return;
    }
    this.nodes.set(nodeId, { users: new Map(), heardAt: Date.now() });
    this.log.info('node joined', { node: nodeId });
  }

  /** The user logged in on the node (its first session there) or out (its last). */
  set(nodeId: string, userId: number, name: string, online: boolean, ts: number): void {
    const node = this.nodes.get(nodeId);
    if (node) this.setOn(node, userId, name, online, ts);
  }

  /** The node's whole set of logged-in users, as its heartbeat states it. */
  alive(nodeId: string, users: [id: number, name: string][], ts: number): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    const listed = new Map(users);
    for (const [userId, name] of node.users) if (!listed.has(userId)) this.setOn(node, userId, name, false, ts);
    for (const [userId, name] of listed) this.setOn(node, userId, name, true, ts);
  }

  /** A node's users are offline, as far as that node goes. */
  forget(nodeId: string, ts: number): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    for (const [userId, name] of node.users) this.setOn(node, userId, name, false, ts);
    this.nodes.delete(nodeId);
    this.gone(nodeId);
  }

  /** Forgets the nodes not heard from for longer than `silentMs`. */
  forgetSilent(silentMs: number, ts: () => number): void {
    const now = Date.now();
    for (const [nodeId, node] of this.nodes) {
      if (now - node.heardAt <= silentMs) continue;
      this.log.warn('node gone', { node: nodeId, reason: 'no heartbeat', users: node.users.size });
      this.forget(nodeId, ts());
    }
  }

  /** Records that the user is (or is no longer) logged in on the node, and says so when that changes whether they are online elsewhere. */
  private setOn(node: OtherNode, userId: number, name: string, online: boolean, ts: number): void {
    if (online === node.users.has(userId)) return;
    const wasElsewhere = this.elsewhere.has(userId);
    const count = (this.elsewhere.get(userId) ?? 0) + (online ? 1 : -1);
    if (online) node.users.set(userId, name);
    else node.users.delete(userId);
    if (count > 0) this.elsewhere.set(userId, count);
    else this.elsewhere.delete(userId);
    if (wasElsewhere !== this.elsewhere.has(userId)) this.changed(userId, name, ts);
  }
}
