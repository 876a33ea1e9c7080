/** The terminal client's /send and /get, in-process over a real host and real files. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { TerminalSession } from './terminal.js';

const room = useRoom({ start: {} });

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function terminal(name: string) {
  const lines: string[] = [];
  const session = new TerminalSession(await room.user(name), name, (line) => lines.push(line));
  const waitLine = async (pattern: RegExp): Promise<RegExpExecArray> => {
    let match: RegExpExecArray | null = null;
    await waitFor(() => lines.some((line) => (match = pattern.exec(line)) !== null), () => `${pattern} in:\n${lines.join('\n')}`);
    return match!;
  };
  return { lines, type: (line: string) => session.handle(line), waitLine };
}

describe('terminal file commands', () => {
  it('send a file to the room, a person and a group with a caption, and get it back with a progress line', async () => {
    const alice = await terminal('alice');
    const bob = await terminal('bob');
    const bytes = randomBytes(3_000_000);
    const source = join(room.dir, 'my report.bin');
    writeFileSync(source, bytes);

    await alice.type(`/send room "${source}" the numbers`);
    await alice.waitLine(/^\*\*\* sending my report\.bin: 100% of 2\.9 MB/);
    await alice.waitLine(/^\*\*\* sent my report\.bin \(2\.9 MB\) as message \d+$/);
    const [, id] = await bob.waitLine(/\] room \| alice: the numbers \[files: my report\.bin \(2\.9 MB, application\/octet-stream\); \/get (\d+)\]$/);

    const folder = join(room.dir, 'downloads');
    mkdirSync(folder);
    await bob.type(`/get ${id} ${folder}`);
    await bob.waitLine(/^\*\*\* getting my report\.bin: 100% of 2\.9 MB/);
    await bob.waitLine(/^\*\*\* saved my report\.bin \(2\.9 MB, application\/octet-stream\) to .*downloads\/my report\.bin$/);
    expect(readFileSync(join(folder, 'my report.bin')).equals(bytes)).toBe(true);
    // A second /get never overwrites.
    await bob.type(`/get ${id} ${folder}`);
    await bob.waitLine(/^! .*my report\.bin exists already; give another path$/);

    await alice.type('/group_name_add Team');
    await alice.type('/group_person_add Team bob');
    await bob.waitLine(/alice invites you to group Team: /);
    await bob.type('/group_join Team');
    await alice.type(`/send #Team "${source}"`);
    await alice.waitLine(/group Team \(owner alice\): alice, bob/);
    await bob.waitLine(/\] group Team \| alice: {2}\[files: my report\.bin/);
    await alice.type(`/send bob "${source}" just for you`);
    await bob.waitLine(/\] dm alice \| alice: just for you \[files: my report\.bin/);
  });

  it('/get saves a file whose name no file system or no Windows keeps as sent under one every system keeps', async () => {
    const alice = await terminal('alice');
    const bob = await terminal('bob');
    const folder = join(room.dir, 'saved');
    mkdirSync(folder);
    // 62 emoji and ".txt": 252 bytes, a name the host takes; with ".part" while it arrives, too long to create.
    const cases: [string, string][] = [
      [`${'😀'.repeat(62)}.txt`, `${'😀'.repeat(61)}.txt`],
      ['a?b.txt', 'a_b.txt'],
      ['NUL.txt', '_NUL.txt'],
    ];
    for (const [i, [name, saved]] of cases.entries()) {
      const source = join(room.dir, `source-${i}`);
      mkdirSync(source);
      writeFileSync(join(source, name), `content ${i}`);
      await alice.type(`/send room "${join(source, name)}" file ${i}`);
      const [, id] = await bob.waitLine(new RegExp(`alice: file ${i} \\[files: .*; /get (\\d+)\\]$`));
      await bob.type(`/get ${id} ${folder}`);
      await bob.waitLine(new RegExp(`^\\*\\*\\* saved ${escape(name)} \\(.*\\) to .*/saved/${escape(saved)}$`));
      expect(readFileSync(join(folder, saved), 'utf8')).toBe(`content ${i}`);
    }
    // Still up: the next command is answered.
    await bob.type('/get 12345');
    await bob.waitLine(/^! usage: \/get/);
  });

  it('say what is wrong: no such file, no such message, a file over the host’s limit', async () => {
    await room.restart({ files: { limits: { maxFileBytes: 1000 } } });
    const alice = await terminal('alice');
    await alice.type('/send room /no/such/file');
    await alice.waitLine(/^! no file at \/no\/such\/file$/);
    await alice.type('/get 12345');
    await alice.waitLine(/^! usage: \/get <message id> \[path\]/);
    const big = join(room.dir, 'big.bin');
    writeFileSync(big, randomBytes(1001));
    await alice.type(`/send room ${big}`);
    await alice.waitLine(/^! too large: the host allows 1000 bytes$/);
    expect(existsSync(join(room.dir, 'files', 'partial'))).toBe(true);
  });
});
