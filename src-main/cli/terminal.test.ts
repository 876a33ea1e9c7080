/** The terminal client's commands and output, in-process over a real host. */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { formatEvent, formatMessageLine, formatReactions, printable } from './terminal-format.js';
import { TerminalSession, parseServer } from './terminal.js';

const room = useRoom({ start: {} });

/** A logged-in user driving a TerminalSession, with everything it printed. */
async function terminal(name: string) {
  const lines: string[] = [];
  const session = new TerminalSession(await room.user(name), name, (line) => lines.push(line));
  const waitLine = (pattern: RegExp) =>
    waitFor(() => lines.some((line) => pattern.test(line)), () => `${pattern} in:\n${lines.join('\n')}`);
  return { lines, type: (line: string) => session.handle(line), waitLine };
}

describe('terminal client', () => {
  it('runs the seed commands, one line per event', async () => {
    const alice = await terminal('alice');
    const bob = await terminal('bob');
    await alice.waitLine(/^\*\*\* bob joined at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    await bob.type('merhaba arkadaşlar');
    await alice.waitLine(/^#\d+ \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] room \| bob: merhaba arkadaşlar$/);

    await alice.type('bob~are you there?');
    await bob.waitLine(/alice wants to chat privately with you: \/accept alice or \/decline alice/);
    await bob.waitLine(/\] dm alice \| alice: are you there\?$/);
    await bob.type('/accept alice');
    await alice.waitLine(/bob accepted your chat request/);
    await alice.type('in private now');
    await bob.waitLine(/\] dm alice \| alice: in private now$/);
    await alice.type('EXIT PM');
    await bob.waitLine(/your partner alice left the private chat/);

    await alice.type('/users');
    await alice.waitLine(/^online \(2\): alice, bob$/);

    await alice.type('/group_name_add Study Group');
    await alice.waitLine(/group Study Group created/);
    await alice.type('/group_person_add Study Group bob');
    await alice.waitLine(/group Study Group \(owner alice\): alice; invited: bob$/);
    await bob.waitLine(/alice invites you to group Study Group: \/group_join Study Group/);
    await bob.type('/group_join Study Group');
    await bob.waitLine(/group Study Group \(owner alice\): alice, bob$/);
    await alice.waitLine(/\] group Study Group \* bob joined$/);
    await alice.type('/group_message Study Group~exam on friday');
    await bob.waitLine(/\] group Study Group \| alice: exam on friday$/);
    await bob.type('/groups_view');
    await bob.waitLine(/^group Study Group \(owner alice\): alice, bob$/);
    await bob.type('/group_name_remove Study Group');
    await bob.waitLine(/only the owner of Study Group can change it/);

    await alice.type('/search_message arkadaş');
    await alice.waitLine(/^1 result for "arkadaş"$/);
    await alice.type('/search_person bob');
    await alice.waitLine(/results? for messages with bob$/);

    await alice.type('/frobnicate');
    await alice.waitLine(/^! unknown command \/frobnicate; \/help lists them$/);
    await alice.type('/help');
    await alice.waitLine(/\/group_message <group>~<text>/);

    await bob.type('@PM alice');
    await alice.waitLine(/bob wants to chat privately with you/);
    await alice.type('/decline bob');
    await bob.waitLine(/alice declined your chat request/);
    await bob.type('alice~please');
    await bob.waitLine(/^! alice declined your chat request; you may ask again from \d{4}-\d\d-\d\dT[\d:.]+Z$/);

    expect(await alice.type('/quit')).toBe('quit');
    expect(await bob.type('LOGOUT')).toBe('quit');
    await bob.waitLine(/^\*\*\* logged out$/);
  });
});

describe('terminal client and conversation changes', () => {
  it('replies, edits, deletes and reacts by message id, and shows what others change as it arrives', async () => {
    const alice = await terminal('alice');
    const bob = await terminal('bob');
    await alice.type('lunch at noon?');
    const id = Number(/^#(\d+) /.exec(alice.lines.find((line) => line.endsWith('alice: lunch at noon?'))!)![1]);
    await bob.waitLine(new RegExp(`^#${id} .* room \\| alice: lunch at noon\\?$`));
    await bob.type(`/reply ${id} yes please`);
    await alice.waitLine(new RegExp(`room \\| bob \\(reply to #${id} alice: "lunch at noon\\?"\\): yes please$`));
    await alice.type(`/edit ${id} lunch at one?`);
    await bob.waitLine(new RegExp(`^#${id} .* room \\| alice \\(edited\\): lunch at one\\?$`));
    await bob.type(`/react ${id} 👍`);
    await alice.waitLine(new RegExp(`^\\*\\*\\* #${id} reactions: 👍 bob$`));
    await bob.type(`/react ${id} 👍`);
    await alice.waitLine(new RegExp(`^\\*\\*\\* #${id} reactions: none$`));
    await bob.type(`/edit ${id} not mine`);
    await bob.waitLine(/^! you can only edit your own messages$/);
    await alice.type(`/delete ${id}`);
    await bob.waitLine(new RegExp(`^\\*\\*\\* #${id} from alice was deleted$`));
    await bob.type('/reply 999999 hello');
    await bob.waitLine(/^! no message #999999 was shown in this session$/);
  });
});

describe('terminal client and calls (issue 39)', () => {
  it('shows a ring as a line and declines it politely, then the call line in the conversation', async () => {
    const bob = await terminal('bob');
    const alice = await room.user('alice');
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await bob.type('/accept alice');
    const declined = new Promise((resolve) => alice.on('call', ({ call }) => call.state === 'ended' && resolve(call)));
    await alice.request('callStart', { conv: contact.conv, video: true });
    await bob.waitLine(/^\*\*\* alice is calling you \(video\) in dm alice; the terminal cannot take calls, so it declined \(answer from the app\)$/);
    expect(await declined).toMatchObject({ declined: ['bob'] });
    await bob.waitLine(/^#\d+ \[[\d :-]+\] dm alice \* bob declined the video call$/);
  });

  it('says "no answer" for a missed call of your own and "missed call" for the others', () => {
    const line = { id: 9, conv: 'dm:1:2', from: 'alice', to: 'bob', text: 'Missed voice call from alice', ts: new Date(2026, 0, 2, 3, 4, 5).getTime(), clientMsgId: 'call:x' };
    const missed = { ...line, callEvent: { kind: 'missed', callId: 'AAAAAAAAAAAAAAAAAAAAAA', video: false } };
    expect(formatMessageLine(missed, 'dm bob', 'alice')).toBe('#9 [2026-01-02 03:04:05] dm bob * No answer to your voice call');
    expect(formatMessageLine(missed, 'dm alice', 'bob')).toBe('#9 [2026-01-02 03:04:05] dm alice * Missed voice call from alice');
  });
});

describe('terminal formatting', () => {
  const base = { id: 7, conv: 'room', from: 'bob', text: 'hi', ts: new Date(2026, 0, 2, 3, 4, 5).getTime(), clientMsgId: 'c' };

  it('shows ids, edits, reply quotes and deletions in one line', () => {
    expect(formatMessageLine(base, 'room')).toBe('#7 [2026-01-02 03:04:05] room | bob: hi');
    expect(formatMessageLine({ ...base, editedAt: 1, replyTo: { id: 3, from: 'ann', snippet: 'first' } }, 'dm ann')).toBe(
      '#7 [2026-01-02 03:04:05] dm ann | bob (edited) (reply to #3 ann: "first"): hi',
    );
    expect(formatMessageLine({ ...base, replyTo: { id: 3, from: 'ann', snippet: '', deleted: true } }, 'room')).toContain(
      '(reply to #3 ann: message deleted): hi',
    );
    expect(formatMessageLine({ ...base, text: '', deleted: true }, 'room')).toBe('#7 [2026-01-02 03:04:05] room | bob: (message deleted)');
  });

  it('prints reactions and others’ read positions, not your own', () => {
    const where = () => 'room';
    const reacted = { ...base, reactions: [{ emoji: '👍', users: ['ann', 'cem'] }, { emoji: '🎉', users: ['bob'] }] };
    expect(formatEvent({ eventId: 1, kind: 'reaction', message: reacted }, 'bob', where)).toBe('*** #7 reactions: 👍 ann, cem; 🎉 bob');
    expect(formatEvent({ eventId: 2, kind: 'read', conv: 'dm:1:2', user: 'ann', upTo: 7 }, 'bob', where)).toBe('*** ann read up to #7');
    expect(formatEvent({ eventId: 3, kind: 'read', conv: 'room', user: 'BOB', upTo: 7 }, 'bob', where)).toBeNull();
    expect(formatReactions(base)).toBe('none');
  });
});

describe('terminal helpers', () => {
  it('parses host:port forms', () => {
    expect(parseServer('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseServer('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseServer('example')).toEqual({ host: 'example', port: 7171 });
    expect(() => parseServer('a:b:c')).toThrow();
  });

  it('neutralises terminal control sequences in received text', () => {
    expect(printable('red\u001b[31m\nline\u202e')).toBe('red\ufffd[31m ⏎ line\ufffd');
  });
});
