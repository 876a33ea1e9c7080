/**
 * docs/examples/minimal_client.py, written from docs/PROTOCOL.md alone, against a real host over
 * TLS: the example a stranger starts from must keep working as the protocol grows.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChildLines } from '../testing/child-lines.js';
import { collectMessages, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

const room = useRoom();

describe('the Python example client', () => {
  it('pins the fingerprint, registers, sends to the room, prints what others write and logs out', async () => {
    const host = await room.start();
    const alice = await room.user('alice');
    const seen = collectMessages(alice);
    const python = spawn(
      'python3',
      [
        'docs/examples/minimal_client.py',
        '127.0.0.1',
        String(room.port),
        'snake',
        'a long python password',
        'hello from python',
        '--wait',
        '3',
        '--fingerprint',
        host.fingerprint!,
        '--pins',
        join(room.dir, 'pins.json'),
      ],
      { cwd: process.cwd() },
    );
    const run = new ChildLines(python);
    await waitFor(() => seen.texts().includes('hello from python'), 'the example’s message');
    await alice.send({ kind: 'room' }, 'hello snake');
    await waitFor(() => run.exitCode !== null, 'the example to finish');
    const output = run.lines.join('\n');
    expect(run.exitCode, output).toBe(0);
    expect(output).toContain(`fingerprint ${host.fingerprint}`);
    expect(output).toContain('logged in as snake (registered: True)');
    expect(output).toMatch(/alice.*hello snake/);
    expect(output).toContain('logged out');
  });
});
