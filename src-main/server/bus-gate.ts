/**
 * Who a node believes on the bus (docs/CLUSTER.md, "The room's identity on the bus"): only the nodes of
 * its own database. A restored copy of the database, started against the same NATS, publishes on the
 * room's subject too; its nodes are not in production's database, so nothing they say is delivered.
 * The first message of a node not yet known waits for one look-up (`admits`); what that node sends
 * meanwhile waits behind it, in order. A node refused is asked about again at most once per `recheckMs`
 * (its messages dropped until then), so a node that was briefly unknown is heard once it is known.
 */
import type { ServerLog } from './log.js';

/** What was dropped from a node, by message kind: the log says so. */
type Dropped = Record<string, number>;

type Sender =
  | { known: 'member' }
  | { known: 'checking'; held: { kind: string; deliver: () => void }[]; dropped: Dropped }
  | { known: 'stranger'; until: number; dropped: Dropped };

/** Messages a node not yet looked up may have waiting; beyond, its messages are dropped as a stranger's. */
const MAX_HELD = 1000;
/** Senders remembered at most; past it the strangers are forgotten (they are looked up again). */
const MAX_SENDERS = 1000;

export class SenderGate {
  private readonly senders = new Map<string, Sender>();

  constructor(
    private readonly admits: (nodeId: string) => Promise<boolean>,
    private readonly recheckMs: number,
    private readonly log: ServerLog,
  ) {}

  /** Runs `deliver` (of a message of `kind`) now, once its sender is known to be a node of this room, or never. */
  pass(from: string, kind: string, deliver: () => void): void {
    const sender = this.senders.get(from);
    if (sender?.known === 'member') deliver();
    else if (sender?.known === 'checking') {
      if (sender.held.length < MAX_HELD) sender.held.push({ kind, deliver });
      else count(sender.dropped, kind);
    } else if (sender && Date.now() < sender.until) count(sender.dropped, kind);
    else this.check(from, { kind, deliver }, sender?.dropped ?? {});
  }

  private check(from: string, first: { kind: string; deliver: () => void }, dropped: Dropped): void {
    if (this.senders.size >= MAX_SENDERS) for (const [id, sender] of this.senders) if (sender.known === 'stranger') this.senders.delete(id);
    const checking = { known: 'checking' as const, held: [first], dropped };
    this.senders.set(from, checking);
    this.admits(from).then(
      (member) => this.settle(from, checking, member),
      (error: unknown) => {
        this.log.error('bus sender not checked', { node: from, error: String(error) });
        this.settle(from, checking, false);
      },
    );
  }

  private settle(from: string, { held, dropped }: { held: { kind: string; deliver: () => void }[]; dropped: Dropped }, member: boolean): void {
    if (member) {
      this.senders.set(from, { known: 'member' });
      for (const { deliver } of held) deliver();
      return;
    }
    for (const { kind } of held) count(dropped, kind);
    this.senders.set(from, { known: 'stranger', until: Date.now() + this.recheckMs, dropped: {} });
    this.log.warn('bus messages dropped', {
      node: from,
      messages: dropped,
      reason: 'the node is not one of this room database\'s nodes (a restored copy of the database, or a node of another room on the same subject)',
    });
  }
}

function count(dropped: Dropped, kind: string): void {
  dropped[kind] = (dropped[kind] ?? 0) + 1;
}
