/**
 * The workload's groups: its idea of each group from the answers it got, the group changes it makes
 * (one at a time: add, remove, leave, create the second group, delete it), and, once the workload is
 * over, who was a member when, read from the membership lines (PROTOCOL §6.4.1).
 */
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import { ClientError } from '../../client/errors.js';
import { type Group, type History, type Interval, UNCERTAIN } from './check.js';
import { AnsweredError, type RemoteClient } from './remote-client.js';
import { ask, conversationView } from './views.js';

/** A user as the group changes need one: their name and current app client. */
export interface Member {
  name: string;
  client: RemoteClient;
}

/** The workload's idea of a group, from the answers it got (and groupInfo before each group change). */
export interface GroupModel {
  id: number;
  conv: string;
  owner: string;
  members: Set<string>;
  invited: Set<string>;
  /** Left it: the owner may not invite them again (§6.4). */
  left: Set<string>;
  deleted: boolean;
}

/** What the group changes work with of the run. */
export interface GroupRun {
  seed: number;
  names: readonly string[];
  history: History;
  byName: (name: string) => Member;
  /** Whether the user can act now (not moving, online). */
  online: (name: string) => boolean;
  /** Counts one acknowledged change of this kind. */
  count: (kind: string) => void;
  /** A client of the user's that can read at the end: theirs, or, when it gave up, a new login. */
  readerOf: (name: string) => Promise<RemoteClient>;
}

/** Who was a member of a group when, from its membership lines (PROTOCOL §6.4.1). */
function membership(lines: readonly ChatMessage[]): Group {
  const members = new Map<string, Interval[]>();
  for (const { id, from, groupEvent } of lines) {
    if (!groupEvent) continue;
    const kind = groupEvent.kind;
    const user = kind === 'removed' ? groupEvent.user! : from;
    const stretches = members.get(user) ?? [];
    if (kind === 'created' || kind === 'joined') members.set(user, [...stretches, { from: id, to: null }]);
    if ((kind === 'removed' || kind === 'left') && stretches.at(-1)?.to === null) stretches.at(-1)!.to = id;
  }
  return { members, deleted: false };
}

export class GroupChanges {
  readonly groups: GroupModel[] = [];
  /** A group change is under way: the next waits. */
  changing = false;
  /** Group membership lines read before a group is deleted: after, they are gone with it. */
  private readonly deletedLines = new Map<string, ChatMessage[]>();

  constructor(private readonly run: GroupRun) {}

  member(user: Member, group: GroupModel): boolean {
    return !group.deleted && group.members.has(user.name);
  }

  /** The first group, of `owner` and `invited`, who accept; the others join and leave it during the run. */
  async createFirst(owner: Member, invited: string[]): Promise<void> {
    // Before the faults, on a loaded machine a link may still drop: what was not sent goes again.
    const { group } = await ask(owner.client, 'groupCreate', { name: `checker ${this.run.seed}`, members: invited }, false);
    const first: GroupModel = { id: group.id, conv: group.conv, owner: owner.name, members: new Set([owner.name]), invited: new Set(invited), left: new Set(), deleted: false };
    this.groups.push(first);
    for (const name of invited) await this.join(first, this.run.byName(name));
  }

  /** Invites and accepts: the invitee is a member when both are answered. */
  private async join(group: GroupModel, invitee: Member): Promise<void> {
    if (!group.invited.has(invitee.name)) await ask(this.run.byName(group.owner).client, 'groupAddMember', { groupId: group.id, user: invitee.name }, false);
    group.invited.add(invitee.name);
    await ask(invitee.client, 'groupAnswer', { groupId: group.id, accept: true }, false);
    group.invited.delete(invitee.name);
    group.members.add(invitee.name);
  }

  /** One group change at a time: add (or add again), remove, leave, create the second group, delete it. */
  async change(kind: string, pick: number, creator: Member): Promise<void> {
    const { seed, names, history, byName, online, count } = this.run;
    const groups = this.groups;
    this.changing = true;
    try {
      if (kind === 'create') {
        const invited = names.filter((name) => name !== creator.name).filter((_, i) => (i + Math.floor(pick * 10)) % 2 === 0).slice(0, 3);
        const { group } = await creator.client.request('groupCreate', { name: `checker ${seed} second`, members: invited });
        const model: GroupModel = { id: group.id, conv: group.conv, owner: creator.name, members: new Set([creator.name]), invited: new Set(invited), left: new Set(), deleted: false };
        groups.push(model);
        for (const name of invited) if (online(name)) await this.join(model, byName(name));
        count('groupCreate');
        return;
      }
      const group = kind === 'delete' ? groups[1]! : groups[0]!;
      const owner = byName(group.owner);
      // What the answers lost to faults changed: the host says.
      const { group: now } = await owner.client.request('groupInfo', { groupId: group.id });
      group.members = new Set(now.members);
      group.invited = new Set(now.invited);
      if (kind === 'delete') {
        this.deletedLines.set(group.conv, await conversationView(owner.client, group.conv));
        history.removals.push({ conv: group.conv, user: null, at: Date.now() });
        group.deleted = true;
        await owner.client.request('groupDelete', { groupId: group.id });
        count('groupDelete');
        return;
      }
      const others = [...group.members].filter((name) => name !== group.owner);
      if (kind === 'add') {
        const outside = names.filter((name) => !group.members.has(name) && !group.left.has(name) && online(name));
        if (outside.length === 0) return;
        await this.join(group, byName(outside[Math.floor(pick * outside.length)]!));
        count('groupAdd');
        return;
      }
      // Someone stays besides the owner, so the group keeps being written to.
      if (others.length < 2) return;
      const leaving = byName(others[Math.floor(pick * others.length)]!);
      const actor = kind === 'leave' ? leaving : owner;
      if (!online(actor.name)) return;
      const removal = { conv: group.conv, user: leaving.name, at: Date.now() };
      history.removals.push(removal);
      try {
        await actor.client.request('groupRemoveMember', { groupId: group.id, user: leaving.name });
      } catch (error) {
        // Refused or never sent (its client offline), it removed nobody; unanswered, it may have.
        if (error instanceof ClientError && (!UNCERTAIN.has(error.code) || (error instanceof AnsweredError && error.notSent))) history.removals.splice(history.removals.indexOf(removal), 1);
        throw error;
      }
      group.members.delete(leaving.name);
      if (kind === 'leave') group.left.add(leaving.name);
      count(kind === 'leave' ? 'groupLeave' : 'groupRemove');
    } catch {
      // A group change refused or unanswered under a fault: the next one asks the host how the group is.
      count('groupChangeFailed');
    } finally {
      this.changing = false;
    }
  }

  /** Records in the history who was a member of each group when: its owner reads the membership lines (the first group's owner never leaves it). */
  async readMemberships(): Promise<void> {
    for (const group of this.groups) {
      const owner = await this.run.readerOf(group.owner);
      // A deletion refused or unanswered may not have happened: the host says.
      const deleted =
        group.deleted &&
        (await ask(owner, 'groupInfo', { groupId: group.id }, true).then(
          () => false,
          (error: unknown) => {
            if (error instanceof ClientError && error.code === 'UNKNOWN_GROUP') return true;
            throw error;
          },
        ));
      const lines = deleted ? this.deletedLines.get(group.conv)! : await conversationView(owner, group.conv);
      this.run.history.groups.set(group.conv, { ...membership(lines), deleted });
    }
  }
}
