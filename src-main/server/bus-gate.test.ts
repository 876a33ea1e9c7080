import { describe, expect, it } from 'vitest';
import { SenderGate } from './bus-gate.js';
import { type LogEntry, ServerLog } from './log.js';

/** A gate whose look-ups the test answers, one at a time, in the order asked. */
function gate(recheckMs: number) {
  const log = new ServerLog(null);
  const entries: LogEntry[] = [];
  log.subscribe((entry) => entries.push(entry));
  const asked: { node: string; answer: (member: boolean) => void }[] = [];
  const tested = new SenderGate((node) => new Promise<boolean>((resolve) => asked.push({ node, answer: resolve })), recheckMs, log);
  const delivered: string[] = [];
  const pass = (from: string, kind: string, what: string): void => tested.pass(from, kind, () => delivered.push(what));
  const settle = async (member: boolean): Promise<void> => {
    asked.shift()!.answer(member);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { pass, settle, asked, delivered, dropped: () => entries.filter((entry) => entry.event === 'bus messages dropped') };
}

describe('the bus gate', () => {
  it('delivers a node of the room in order, its first messages once it is looked up, and asks about it once', async () => {
    const { pass, settle, asked, delivered } = gate(60_000);
    pass('7', 'alive', 'a1');
    pass('7', 'push', 'p1');
    expect(delivered).toEqual([]);
    expect(asked.map((ask) => ask.node)).toEqual(['7']);
    await settle(true);
    pass('7', 'push', 'p2');
    expect(delivered).toEqual(['a1', 'p1', 'p2']);
    expect(asked).toEqual([]);
  });

  it("drops a stranger's messages and says which, without asking again within the wait", async () => {
    const { pass, settle, asked, delivered, dropped } = gate(60_000);
    pass('9', 'alive', 'a');
    pass('9', 'push', 'p');
    await settle(false);
    pass('9', 'end', 'kick');
    expect(delivered).toEqual([]);
    expect(asked).toEqual([]);
    expect(dropped().map((entry) => [entry.node, entry.messages])).toEqual([['9', { alive: 1, push: 1 }]]);
  });

  it('asks about a stranger again after the wait, counting what it dropped meanwhile, and hears it once it is a node of the room', async () => {
    const { pass, settle, delivered, dropped } = gate(0);
    pass('5', 'alive', 'a1');
    await settle(false);
    pass('5', 'push', 'p1');
    await settle(false);
    pass('5', 'push', 'p2');
    await settle(true);
    expect(delivered).toEqual(['p2']);
    expect(dropped().map((entry) => entry.messages)).toEqual([{ alive: 1 }, { push: 1 }]);
  });

  it('takes a failed look-up as a stranger, and logs it', async () => {
    const log = new ServerLog(null);
    const events: string[] = [];
    log.subscribe((entry) => events.push(entry.event));
    const delivered: string[] = [];
    new SenderGate(() => Promise.reject(new Error('database gone')), 60_000, log).pass('3', 'push', () => delivered.push('p'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toEqual([]);
    expect(events).toEqual(['bus sender not checked', 'bus messages dropped']);
  });
});
