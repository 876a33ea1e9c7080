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

describe('PROTOCOL.md', () => {
  const protocol = readFileSync('docs/PROTOCOL.md', 'utf8');
  const numbers = [...protocol.matchAll(/^#{2,4} (\d+(?:\.\d+)*) /gm)].map((match) => match[1]!);

  it('numbers each section once', () => {
    expect(numbers.filter((number, index) => numbers.indexOf(number) !== index)).toEqual([]);
  });

  it('refers only to sections it has (or the numbered points of one, as §10.5), here and in docs/vectors', () => {
    const sections = protocol.split(/^(?=#{2,4} \d)/m);
    const points = sections.flatMap((section) => {
      const number = /^#{2,4} (\d+(?:\.\d+)*) /.exec(section)?.[1];
      return number ? [...section.matchAll(/^(\d+)\. /gm)].map((match) => `${number}.${match[1]!}`) : [];
    });
    const texts = [protocol, ...readdirSync('docs/vectors').map((file) => readFileSync(`docs/vectors/${file}`, 'utf8'))];
    const references = texts.flatMap((text) => [...text.matchAll(/§(\d+(?:\.\d+)*)/g)].map((match) => match[1]!));
    expect(references.length).toBeGreaterThan(0);
    expect(references.filter((reference) => !numbers.includes(reference) && !points.includes(reference))).toEqual([]);
  });
});

describe('protocol test vectors', () => {
  it('finds the §16 session in PROTOCOL.md and the edge cases in docs/vectors', () => {
    expect(inProtocol.map((vector) => vector.title)).toContainEqual(expect.stringMatching(/^docs\/PROTOCOL\.md #\d+ \(16 A minimal session, byte by byte\)$/));
    expect(inVectors.length).toBeGreaterThan(0);
  });

  it.each([...inProtocol, ...inVectors].map((vector) => [vector.title, vector] as const))('%s', (_, vector) => runVector(room, vector));
});
