/**
 * What MLS costs on this machine, measured once by hand (docs/BENCHMARKS.md, "MLS (issue 35, first step)"):
 * `npx tsx src-main/crypto/measure-mls.ts`. Until `npm run bench` reports it as a ratio to plaintext (issue 35).
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type Group, addMembers, createDevice, createGroup, createKeyPackage, encrypt, joinFromWelcome, receive } from './mls.js';

const MESSAGES = 1000;
const ROUNDS = 5;
const ADDED = 50;

const device = (userId: number) => createDevice(userId, randomBytes(16).toString('hex'));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const ms = (value: number): string => `${value.toFixed(2)} ms`;
function at<T>(values: readonly T[], index: number): T {
  const value = values[index];
  if (value === undefined) throw new Error(`no item ${index}`);
  return value;
}

/** A group of `size` devices made by device 1: its state and the state of device 2. */
async function groupOf(size: number): Promise<{ first: Group; second: Group }> {
  const devices = await Promise.all(Array.from({ length: size - 1 }, (_, i) => device(i + 2)));
  const packages = await Promise.all(devices.map(createKeyPackage));
  const added = await addMembers(await createGroup(await device(1), randomBytes(16)), packages.map((p) => p.encoded));
  return { first: added.group, second: await joinFromWelcome(at(devices, 0), at(packages, 0), added.welcome) };
}

async function messages(size: number): Promise<void> {
  let { first, second } = await groupOf(size);
  const plaintext = new TextEncoder().encode('x'.repeat(100));
  let encrypting = 0;
  let decrypting = 0;
  let bytes = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const started = performance.now();
    const sent = await encrypt(first, plaintext);
    const encrypted = performance.now();
    const got = await receive(second, sent.message);
    decrypting += performance.now() - encrypted;
    encrypting += encrypted - started;
    bytes = sent.message.length;
    first = sent.group;
    second = got.group;
  }
  console.log(`group of ${size}: ${MESSAGES} messages of 100 bytes, ${bytes} bytes each on the wire; per message encrypt ${ms(encrypting / MESSAGES)}, decrypt ${ms(decrypting / MESSAGES)}, both ${ms((encrypting + decrypting) / MESSAGES)}`);
}

async function addFifty(): Promise<void> {
  const commits: number[] = [];
  const applies: number[] = [];
  const joins: number[] = [];
  let sizes = '';
  for (let round = 0; round < ROUNDS; round++) {
    const { first, second } = await groupOf(2);
    const devices = await Promise.all(Array.from({ length: ADDED }, (_, i) => device(i + 3)));
    const packages = await Promise.all(devices.map(createKeyPackage));
    let started = performance.now();
    const added = await addMembers(first, packages.map((p) => p.encoded));
    commits.push(performance.now() - started);
    started = performance.now();
    await receive(second, added.commit);
    applies.push(performance.now() - started);
    started = performance.now();
    await joinFromWelcome(at(devices, ADDED - 1), at(packages, ADDED - 1), added.welcome);
    joins.push(performance.now() - started);
    sizes = `commit ${added.commit.length} bytes, welcome ${added.welcome.length} bytes`;
  }
  console.log(`adding ${ADDED} devices to a group of 2, median of ${ROUNDS}: the commit ${ms(median(commits))}, a member applying it ${ms(median(applies))}, a new device joining from the welcome ${ms(median(joins))}; ${sizes}`);
}

await messages(2);
await messages(50);
await addFifty();
