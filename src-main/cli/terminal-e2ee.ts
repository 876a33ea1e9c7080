/**
 * The terminal's end-to-end encryption lines besides messages: what a conversation's readers cannot
 * receive, whose devices changed, and the safety number with someone (/safety, /verify; SECURITY.md
 * "Verification"), as the window's conversation details show it.
 */
import { conversationKind } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { E2eeMessaging, E2eeNotice } from '../core/e2ee-messaging.js';

export const E2EE_HELP = [
  '  /safety <name>                  the safety number of your encrypted chats with <name>: compare it with theirs',
  '  /verify <name>                  mark <name> verified, once your safety numbers matched',
];

export const isE2eeCommand = (command: string): command is '/safety' | '/verify' => command === '/safety' || command === '/verify';

export class TerminalEncryption {
  /** Conversation and user of each "cannot receive" said (notice). */
  private readonly unreachableSaid = new Set<string>();

  constructor(
    private readonly print: (line: string) => void,
    private readonly groupName: (groupId: number) => string,
  ) {}

  /**
   * Says whose client cannot receive a conversation's messages once, not at each message the device sends
   * there (the window keeps one notice the same way): again only after their devices changed.
   */
  notice({ conv, kind, users }: E2eeNotice): void {
    const where = conversationKind(conv) === 'group' ? `group ${this.groupName(Number(conv.slice('group:'.length)))}` : null;
    for (const user of users) {
      const key = `${conv} ${nameKey(user)}`;
      if (kind === 'devicesChanged') {
        this.unreachableSaid.delete(key);
        this.print(`*** ${user}'s devices changed${where ? ` (in ${where})` : ''}: an app of theirs was added or removed; if they did not say so, compare safety numbers: /safety ${user}`);
      } else if (!this.unreachableSaid.has(key)) {
        this.unreachableSaid.add(key);
        this.print(`*** ${user}'s client cannot receive end-to-end encrypted messages (an older version?): what you write to ${where ?? 'them'} does not reach it, and never goes in plain`);
      }
    }
  }

  /** /safety <name> and /verify <name> on this install's device. */
  async run(command: '/safety' | '/verify', name: string, device: E2eeMessaging | Error | null): Promise<void> {
    if (device === null) throw new Error('this host has no end-to-end encryption: there is no safety number');
    if (device instanceof Error) throw new Error(`end-to-end encryption could not start (${device.message})`);
    if (command === '/verify') {
      await device.markVerified(name);
      this.print(`*** ${name} is verified on this install: if their devices change, you are told`);
      return;
    }
    const { safetyNumber, verified } = await device.safetyNumber(name);
    this.print(`*** safety number with ${name}${verified ? ' (verified)' : ''}: ${safetyNumber}`);
    if (!verified) this.print(`*** compare it with ${name}, in person or by phone; if it matches on both sides: /verify ${name}`);
  }
}
