/**
 * The terminal client's behaviour, apart from process wiring: turns the seeds'
 * commands into client calls and everything received into one line each (worded
 * in terminal-format.ts; runChat makes each line safe to print).
 */
import type { CallInfo } from '../../src-shared/protocol/calls.js';
import type { ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { DEFAULT_PORT } from '../../src-shared/protocol/limits.js';
import { checkUserName } from '../../src-shared/text.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatClient } from '../client/client.js';
import { isE2ee, isE2eeId } from '../../src-shared/e2ee-app.js';
import type { E2eeMessaging } from '../core/e2ee-messaging.js';
import { FILE_HELP, describeAttachments, getFiles, sendFile, splitPathAndCaption } from './chat-files.js';
import { formatEvent, formatMessageLine, formatReactions, formatTime } from './terminal-format.js';
import { TerminalGroups, isGroupCommand, needArgument } from './terminal-groups.js';
import { followCalls } from './terminal-calls.js';
import { TerminalOutbox } from './terminal-outbox.js';
import { E2EE_HELP, TerminalEncryption, isE2eeCommand } from './terminal-e2ee.js';

export const HELP = [
  'commands:',
  '  <text>                          to the room (or to your private chat partner after @PM)',
  '  <name>~<text>                   direct message to <name>',
  '  /users                          everyone, online or not',
  '  /search_message <text>          search every message you can see (word, part of a word, one letter)',
  '  /search_person <name>           everything exchanged with <name>',
  '  /groups_view                    your groups',
  '  /group_view <group>             a group and its members',
  '  /group_name_add <group>         create a group',
  '  /group_name_remove <group>      delete a group you own',
  '  /group_person_add <group> <name>      invite <name> to your group',
  '  /group_person_remove <group> <name>   remove <name> from your group',
  '  /group_message <group>~<text>   message a group',
  '  /group_cancel <group>           drop your messages to <group> waiting for its members\' clients',
  '  /reply <id> <text>              answer message #<id> in its conversation',
  '  /edit <id> <text>               change your message #<id>',
  '  /delete <id>                    delete your message #<id> for everyone',
  '  /react <id> <emoji>             add or take back your reaction to #<id>',
  '  /group_join <group>, /group_decline <group>   answer an invitation to a group',
  '  /cancel <name>                  drop your direct messages waiting for <name>\'s client to receive them',
  ...E2EE_HELP,
  '  @PM <name>                      ask <name> for a private chat',
  '  /accept <name>, /decline <name> answer a private chat request',
  '  EXIT PM                         leave the private chat',
  '  LOGOUT                          end your session and quit',
  '  exit, /quit                     quit',
  ...FILE_HELP,
  '  /help                           this list',
].join('\n');

export type CommandOutcome = 'continue' | 'quit';

/** Encrypted messages a search shows from this install's history. */
const SEARCH_PAGE = 50;

/** Messages the session remembers for /reply and /react (the newest). */
const REMEMBERED_MESSAGES = 5000;

export class TerminalSession {
  /** The partner of the private chat plain text goes to, after @PM was accepted. */
  private partner: string | null = null;
  private readonly groups: TerminalGroups;
  /** The newest messages seen, by id, for /reply, /edit, /delete, /react and /get. */
  private readonly seen = new Map<number, ChatMessage>();
  /**
   * This install's encryption device once started (DMs and groups then go end-to-end encrypted), or why it
   * could not start: DMs and groups are then refused rather than sent in plain. Null: the host has no encrypted layer.
   */
  private e2ee: E2eeMessaging | Error | null = null;
  /** Encrypted messages kept until the host stored them (terminal-outbox.ts). */
  private readonly outbox: TerminalOutbox;
  private readonly encryption: TerminalEncryption;

  constructor(
    private readonly client: ChatClient,
    private readonly me: string,
    private readonly print: (line: string) => void,
  ) {
    this.groups = new TerminalGroups(client, print);
    this.encryption = new TerminalEncryption(print, (groupId) => this.groups.nameOf(groupId));
    this.outbox = new TerminalOutbox(
      client,
      print,
      (target) => (target.kind === 'dm' ? target.user : target.kind === 'group' ? this.groups.nameOf(target.groupId) : 'room'),
      (message) => this.remember(message),
    );
    client.on('message', (message) => {
      this.remember(message);
      this.print(this.formatMessage(message));
    });
    client.on('event', (event) => {
      if (event.kind !== 'read') this.remember(event.message);
      const line = formatEvent(event, this.me, (message) => this.where(message));
      if (line !== null) this.print(line);
    });
    client.on('presence', ({ users }) => {
      for (const { user, online, ts } of users) {
        if (nameKey(user) !== nameKey(this.me)) this.print(`*** ${user} ${online ? 'joined' : 'left'} at ${formatTime(ts)}`);
      }
    });
    client.on('chatRequest', (r) => {
      if (nameKey(r.from) === nameKey(this.me)) return;
      this.print(`*** ${r.from} wants to chat privately with you: /accept ${r.from} or /decline ${r.from}`);
    });
    client.on('chatAnswer', (a) => {
      if (nameKey(a.from) === nameKey(this.me)) return;
      if (a.accepted) {
        this.partner = a.from;
        this.print(`*** ${a.from} accepted your chat request: private chat with ${a.from} (EXIT PM to leave)`);
      } else {
        this.print(`*** ${a.from} declined your chat request`);
      }
    });
    client.on('chatLeft', (l) => {
      if (nameKey(l.user) === nameKey(this.me)) return;
      if (this.partner && nameKey(this.partner) === nameKey(l.user)) this.partner = null;
      this.print(`*** your partner ${l.user} left the private chat`);
    });
    client.on('offline', (reason) => this.print(`*** connection lost${reason ? `: ${reason.message}` : ''}`));
    client.on('reconnecting', ({ delayMs }) => this.print(`*** reconnecting in ${(delayMs / 1000).toFixed(1)} s`));
    client.on('online', () => {
      if (client.session) this.print(`*** connected to ${client.session.hello.room} as ${client.session.login.name}`);
    });
    client.on('serverError', (error) => this.print(`! ${error.message}`));
    followCalls(client, me, print, (call) => this.callWhere(call));
  }

  /** A ring's conversation, as message lines name it: a direct one by the caller, a group by its name. */
  private callWhere(call: CallInfo): string {
    if (!call.conv.startsWith('group:')) return `dm ${call.startedBy}`;
    return `group ${this.groups.nameOf(Number(call.conv.slice('group:'.length)))}`;
  }

  /** DMs and groups go through the device from now on (see `e2ee`). */
  useEncryption(device: E2eeMessaging | Error | null): void {
    this.e2ee = device;
    if (device === null) {
      this.print('*** this host has no end-to-end encryption: it can read direct messages and groups');
      return;
    }
    if (device instanceof Error) {
      this.print(`! end-to-end encryption could not start (${device.message}): direct messages and groups will not be sent`);
      return;
    }
    this.print('*** direct messages and groups are end-to-end encrypted; the room is readable by the host');
    this.outbox.start(device);
    device.on('message', (message) => {
      this.remember(message);
      this.print(this.formatMessage(message));
    });
    device.on('changed', (message, kind) => {
      this.remember(message);
      const line = formatEvent({ eventId: 0, kind, message }, this.me, (changed) => this.where(changed));
      if (line !== null) this.print(line);
    });
    device.on('notice', (notice) => this.encryption.notice(notice));
  }

  /** Sends a message: to a DM or group through the encryption device when there is one. */
  private async sendTo(to: Target, text: string, replyTo?: number): Promise<void> {
    if (to.kind === 'room' || this.e2ee === null) {
      await this.client.send(to, text, undefined, replyTo);
      return;
    }
    if (this.e2ee instanceof Error) throw new Error(`not sent: end-to-end encryption could not start (${this.e2ee.message})`);
    this.outbox.send(to, text, replyTo);
  }

  /** The terminal is quitting: says which messages are kept for its next connection. */
  leaving(): void {
    this.outbox.leaving();
  }

  formatMessage(message: ChatMessage): string {
    return formatMessageLine(message, this.where(message), this.me) + describeAttachments(message);
  }

  private where(message: ChatMessage): string {
    if (message.conv === 'room') return 'room';
    const encrypted = isE2ee(message) ? ' (e2ee)' : '';
    if (message.to !== undefined) return `dm ${this.otherParty(message)}${encrypted}`;
    return `group ${this.groups.nameOf(message.groupId!)}${encrypted}`;
  }

  private otherParty(message: ChatMessage): string {
    return nameKey(message.from) === nameKey(this.me) ? message.to! : message.from;
  }

  private remember(message: ChatMessage): void {
    this.seen.delete(message.id);
    this.seen.set(message.id, message);
    if (this.seen.size > REMEMBERED_MESSAGES) this.seen.delete(this.seen.keys().next().value!);
  }

  /** A message shown in this session, by the id /reply, /edit, /delete or /react gave. */
  private shown(idText: string | undefined, usage: string): ChatMessage {
    const id = Number((idText ?? '').replace(/^#/, ''));
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`usage: ${usage}`);
    const message = this.seen.get(id);
    if (!message) throw new Error(`no message #${id} was shown in this session`);
    return message;
  }

  /** /reply, /edit, /delete, /react: the message id first, then the rest of the line. */
  private async change(command: string, argument: string): Promise<CommandOutcome> {
    const [idText = '', ...words] = argument.split(/\s+/);
    const rest = argument.slice(idText.length).trim();
    const device = this.e2ee;
    const encrypted = device !== null && !(device instanceof Error) && isE2eeId(Number(idText.replace(/^#/, ''))) ? device : null;
    if (command === '/delete') {
      const message = this.shown(idText, '/delete <id>');
      if (encrypted) this.remember(await encrypted.change(message.id, { kind: 'delete' }));
      else await this.client.request('delete', { messageId: message.id });
      return 'continue';
    }
    const usage = `${command} <id> ${command === '/react' ? '<emoji>' : '<text>'}`;
    const message = this.shown(idText, usage);
    if (rest === '' || words.length === 0) throw new Error(`usage: ${usage}`);
    const mine = (message.reactions ?? []).some((reaction) => reaction.emoji === rest && reaction.users.some((user) => nameKey(user) === nameKey(this.me)));
    if (encrypted && command !== '/reply') {
      const change = command === '/edit' ? ({ kind: 'edit', text: rest } as const) : ({ kind: 'reaction', emoji: rest, on: !mine } as const);
      const changed = await encrypted.change(message.id, change);
      this.remember(changed);
      if (command === '/react') this.print(`*** #${changed.id} reactions: ${formatReactions(changed)}`);
      return 'continue';
    }
    if (command === '/edit') {
      await this.client.request('edit', { messageId: message.id, text: rest });
    } else if (command === '/react') {
      await this.client.request('react', { messageId: message.id, emoji: rest, on: !mine });
    } else {
      const to: Target =
        message.conv === 'room'
          ? { kind: 'room' }
          : message.to !== undefined
            ? { kind: 'dm', user: this.otherParty(message) }
            : { kind: 'group', groupId: message.groupId! };
      await this.sendTo(to, rest, message.id);
    }
    return 'continue';
  }

  /** Runs one input line; errors print as one line and the session goes on. */
  async handle(rawLine: string): Promise<CommandOutcome> {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') return 'continue';
    try {
      return await this.dispatch(line);
    } catch (error) {
      this.print(`! ${error instanceof Error ? error.message : String(error)}`);
      return 'continue';
    }
  }

  private async dispatch(line: string): Promise<CommandOutcome> {
    const trimmed = line.trim();
    const [command = '', ...rest] = trimmed.split(/\s+/);
    const argument = trimmed.slice(command.length).trim();
    if (isGroupCommand(command)) {
      await this.groups.run(command, argument, rest);
      return 'continue';
    }
    if (isE2eeCommand(command)) {
      await this.encryption.run(command, needArgument(argument, `${command} <name>`), this.e2ee);
      return 'continue';
    }
    switch (command) {
      case 'exit':
      case '/quit':
        return 'quit';
      case 'LOGOUT':
        await this.client.logout();
        this.print('*** logged out');
        return 'quit';
      case '/help':
        for (const line of HELP.split('\n')) this.print(line);
        return 'continue';
      case '/users':
        return this.users();
      case '/search_message':
        return this.search(argument);
      case '/search_person':
        return this.searchPerson(needArgument(argument, '/search_person <name>'));
      case '/group_message': {
        const [groupName, text] = splitOnce(argument, '~');
        if (!groupName || !text) throw new Error('usage: /group_message <group>~<text>');
        const group = await this.groups.find(groupName);
        await this.sendTo({ kind: 'group', groupId: group.id }, text);
        return 'continue';
      }
      case '/reply':
      case '/edit':
      case '/delete':
      case '/react':
        return this.change(command, argument);
      case '/send':
        return this.sendFile(argument);
      case '/get':
        return this.getFiles(rest);
      case '/cancel':
        await this.outbox.cancel({ kind: 'dm', user: needArgument(argument, '/cancel <name>') });
        return 'continue';
      case '/group_cancel': {
        const group = await this.groups.find(needArgument(argument, '/group_cancel <group>'));
        await this.outbox.cancel({ kind: 'group', groupId: group.id });
        return 'continue';
      }
      case '@PM': {
        const name = needArgument(argument, '@PM <name>');
        const { contact } = await this.client.request('chatRequest', { user: name });
        if (contact.state === 'accepted') {
          this.partner = contact.name;
          this.print(`*** private chat with ${contact.name} (EXIT PM to leave)`);
        } else {
          this.print(`*** chat request sent to ${contact.name}; waiting for an answer`);
        }
        return 'continue';
      }
      case '/accept':
      case '/decline': {
        const name = needArgument(argument, `${command} <name>`);
        const { contact } = await this.client.request('chatAnswer', { user: name, accept: command === '/accept' });
        if (command === '/accept') {
          this.partner = contact.name;
          this.print(`*** private chat with ${contact.name} (EXIT PM to leave)`);
        } else {
          this.print(`*** declined ${contact.name}`);
        }
        return 'continue';
      }
      default:
        break;
    }
    if (trimmed === 'EXIT PM') {
      if (!this.partner) throw new Error('you are not in a private chat');
      const partner = this.partner;
      this.partner = null;
      await this.client.request('chatLeave', { user: partner });
      this.print(`*** left the private chat with ${partner}`);
      return 'continue';
    }
    if (command.startsWith('/')) throw new Error(`unknown command ${command}; /help lists them`);
    const [maybeName, dmText] = splitOnce(line, '~');
    if (dmText !== undefined && maybeName && checkUserName(maybeName).ok) {
      if (dmText.trim() === '') throw new Error('usage: <name>~<text>');
      await this.sendTo({ kind: 'dm', user: maybeName }, dmText);
      return 'continue';
    }
    await this.sendTo(this.partner ? { kind: 'dm', user: this.partner } : { kind: 'room' }, line);
    return 'continue';
  }

  private async sendFile(argument: string): Promise<CommandOutcome> {
    const usage = 'usage: /send <room|name|#group> <path> [caption]';
    const [where = '', ...more] = argument.split(/\s+/);
    const { path, caption } = splitPathAndCaption(argument.slice(where.length).trim());
    if (where === '' || path === '' || more.length === 0) throw new Error(usage);
    const to =
      where === 'room'
        ? { kind: 'room' as const }
        : where.startsWith('#')
          ? { kind: 'group' as const, groupId: (await this.groups.find(where.slice(1))).id }
          : { kind: 'dm' as const, user: where };
    const device = this.e2ee;
    if (to.kind !== 'room' && device instanceof Error) throw new Error(`not sent: end-to-end encryption could not start (${device.message})`);
    this.remember(await sendFile(this.client, to, path, caption, this.print, device instanceof Error ? undefined : (device ?? undefined)));
    return 'continue';
  }

  private async getFiles(words: string[]): Promise<CommandOutcome> {
    const [id, ...path] = words;
    const message = this.seen.get(Number((id ?? '').replace(/^#/, '')));
    if (!message?.attachments) throw new Error('usage: /get <message id> [path], with the id of a message with files shown in this session');
    await getFiles(this.client, message, path.length > 0 ? path.join(' ') : undefined, this.print, this.e2ee instanceof Error ? undefined : (this.e2ee ?? undefined));
    return 'continue';
  }

  private async users(): Promise<CommandOutcome> {
    const { users } = await this.client.request('users');
    const online = users.filter((u) => u.online).map((u) => u.name);
    const offline = users
      .filter((u) => !u.online)
      .map((u) => (u.lastSeen ? `${u.name} (last seen ${formatTime(u.lastSeen)})` : u.name));
    this.print(`online (${online.length}): ${online.join(', ') || '-'}`);
    this.print(`offline (${offline.length}): ${offline.join(', ') || '-'}`);
    return 'continue';
  }

  private async search(query: string): Promise<CommandOutcome> {
    if (query === '') throw new Error('usage: /search_message <text>');
    await this.groups.refresh();
    const { hits, hasMore } = await this.client.request('search', { query });
    this.printHits(`"${query}"`, [...(await this.searchDevice(query)), ...hits.map((h) => h.message)], hasMore);
    return 'continue';
  }

  private async searchPerson(name: string): Promise<CommandOutcome> {
    await this.groups.refresh();
    const { hits, hasMore } = await this.client.request('search', { query: '', person: name });
    this.printHits(`messages with ${name}`, [...(await this.searchDevice('', name)), ...hits.map((h) => h.message)], hasMore);
    return 'continue';
  }

  /** The encrypted messages this install keeps that match, newest first (the host has only their ciphertext). */
  private async searchDevice(query: string, person?: string): Promise<ChatMessage[]> {
    const device = this.e2ee;
    if (device === null || device instanceof Error) return [];
    return (await device.history.search(query, person, undefined, SEARCH_PAGE)).messages;
  }

  private printHits(what: string, messages: ChatMessage[], hasMore: boolean): void {
    this.print(`${messages.length}${hasMore ? '+' : ''} result${messages.length === 1 ? '' : 's'} for ${what}`);
    for (const message of messages) this.print(`  ${this.formatMessage(message)}`);
  }

}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** "host:port", "[v6]:port", or a bare host (default port). */
export function parseServer(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) throw new Error(`--server must look like host:port, got "${text}"`);
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be 1 to 65535, got ${match[2]}`);
  return { host: match[1]!, port };
}
