/** Issue 10 item 24: the transcripts in docs/PROTOCOL.md and docs/vectors/ are what the server does, frame by frame. */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useRoom } from '../testing/room.js';
import { runVector, vectorsIn } from '../testing/vectors.js';

const read = (file: string) => vectorsIn(readFileSync(file, 'utf8'), file);
const inProtocol = read('docs/PROTOCOL.md');
const inVectors = readdirSync('docs/vectors')
  .filter((file) => file.endsWith('.md') && file !== 'README.md')
  .flatMap((file) => read(`docs/vectors/${file}`));

const room = useRoom();

describe('protocol test vectors', () => {
  it('finds the §16 session in PROTOCOL.md and the edge cases in docs/vectors', () => {
    expect(inProtocol.map((vector) => vector.title)).toContainEqual(expect.stringMatching(/^docs\/PROTOCOL\.md #\d+ \(16 A minimal session, byte by byte\)$/));
    expect(inVectors.length).toBeGreaterThan(0);
  });

  it.each([...inProtocol, ...inVectors].map((vector) => [vector.title, vector] as const))('%s', (_, vector) => runVector(room, vector));
});
