/**
 * Groups in the terminal client: the names it shows groups by, the pushes about them, and the
 * /group… commands (a group is named by its name, case-insensitive; the host knows it by id).
 */
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import { describeGroup } from './terminal-format.js';

/** The /group… commands, by the command that starts the line. */
export const GROUP_COMMANDS = [
  '/groups_view',
  '/group_view',
  '/group_name_add',
  '/group_name_remove',
  '/group_person_add',
  '/group_person_remove',
  '/group_join',
  '/group_decline',
] as const;

export type GroupCommand = (typeof GROUP_COMMANDS)[number];

export const isGroupCommand = (command: string): command is GroupCommand => (GROUP_COMMANDS as readonly string[]).includes(command);

export function needArgument(argument: string, usage: string): string {
  if (argument === '') throw new Error(`usage: ${usage}`);
  return argument;
}

export class TerminalGroups {
  private readonly names = new Map<number, string>();
  /** Invitations already printed, by group id. */
  private readonly invitationsSeen = new Set<number>();

  constructor(
    private readonly client: ChatClient,
    private readonly print: (line: string) => void,
  ) {
    client.on('group', (g) => {
      this.names.set(g.group.id, g.group.name);
      this.print(`*** ${describeGroup(g.group)}`);
    });
    client.on('groupRemoved', (g) => this.print(`*** group ${g.name} ${g.reason === 'deleted' ? 'was deleted' : 'no longer has you as a member'}`));
    client.on('groupInvitations', ({ invitations }) => {
      for (const invitation of invitations) {
        if (this.invitationsSeen.has(invitation.groupId)) continue;
        this.invitationsSeen.add(invitation.groupId);
        const name = invitation.name;
        this.print(`*** ${invitation.inviter} invites you to group ${name}: /group_join ${name} or /group_decline ${name}`);
      }
    });
  }

  /** A group's name as lines show it (its id while the name is not known yet). */
  nameOf(groupId: number): string {
    return this.names.get(groupId) ?? String(groupId);
  }

  /** Runs a /group… command; `words` are the argument's words. */
  async run(command: GroupCommand, argument: string, words: string[]): Promise<void> {
    switch (command) {
      case '/groups_view':
        return this.view();
      case '/group_view':
        this.print(describeGroup(await this.find(needArgument(argument, '/group_view <group>'))));
        return;
      case '/group_name_add': {
        const { group } = await this.client.request('groupCreate', { name: needArgument(argument, '/group_name_add <group>') });
        this.names.set(group.id, group.name);
        this.print(`*** group ${group.name} created`);
        return;
      }
      case '/group_name_remove': {
        const group = await this.find(needArgument(argument, '/group_name_remove <group>'));
        await this.client.request('groupDelete', { groupId: group.id });
        this.print(`*** group ${group.name} deleted`);
        return;
      }
      case '/group_person_add':
      case '/group_person_remove':
        return this.person(command, words);
      case '/group_join':
      case '/group_decline':
        return this.answerInvitation(command === '/group_join', needArgument(argument, `${command} <group>`));
    }
  }

  /** Finds one of the user's groups by name (case-insensitive). */
  async find(name: string): Promise<GroupInfo> {
    const groups = await this.refresh();
    const group = groups.find((g) => nameKey(g.name) === nameKey(name.trim()));
    if (!group) throw new ClientError('UNKNOWN_GROUP', `you are in no group named ${name}`);
    return group;
  }

  /** Reads the user's groups, and so their names. */
  async refresh(): Promise<GroupInfo[]> {
    const { groups } = await this.client.request('groups');
    for (const group of groups) this.names.set(group.id, group.name);
    return groups;
  }

  private async view(): Promise<void> {
    const groups = await this.refresh();
    if (groups.length === 0) this.print('you are in no group');
    for (const group of groups) this.print(describeGroup(group));
  }

  private async person(command: '/group_person_add' | '/group_person_remove', words: string[]): Promise<void> {
    if (words.length < 2) throw new Error(`usage: ${command} <group> <name>`);
    const name = words[words.length - 1]!;
    const group = await this.find(words.slice(0, -1).join(' '));
    const result =
      command === '/group_person_add'
        ? await this.client.request('groupAddMember', { groupId: group.id, user: name })
        : await this.client.request('groupRemoveMember', { groupId: group.id, user: name });
    this.print(`*** ${describeGroup(result.group)}`);
  }

  private async answerInvitation(accept: boolean, name: string): Promise<void> {
    const { invitations } = await this.client.request('groupInvitations');
    const invitation = invitations.find((i) => nameKey(i.name) === nameKey(name));
    if (!invitation) throw new ClientError('UNKNOWN_GROUP', `you have no invitation to a group named ${name}`);
    const { group } = await this.client.request('groupAnswer', { groupId: invitation.groupId, accept });
    if (group) this.names.set(group.id, group.name);
    this.print(group ? `*** ${describeGroup(group)}` : `*** you declined to join ${invitation.name}`);
  }
}
