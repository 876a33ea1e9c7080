/**
 * What end-to-end encryption costs (issue 35), against plain sends in the same run and host: a
 * message in a group of two, one at a time from the send to the other member's display, plain
 * (`send`, the host reads it) and encrypted (EncryptedChats: encrypt, mlsSend, the push, decrypt and
 * verify); and adding 200 members to a group, plain (invitations sent and accepted) and, on top of
 * that, the MLS commit adding their devices (a key package claimed for each, the commit and welcome
 * made, the host ordering it and pushing the welcome) and one new member joining from it.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { groupConversation } from '../src-shared/protocol/conversation.js';
import { ChatClient } from '../src-main/client/client.js';
import { type DecryptedMessage, EncryptedChats } from '../src-main/client/e2ee.js';
import { createDevice, createKeyPackage, joinFromWelcome, signatureKeys } from '../src-main/crypto/mls.js';
import type { MlsFrame } from '../src-shared/protocol/e2ee.js';
import { loadOrCreateIdentity } from '../src-main/net/tls.js';
import { type Account, type Result, removeDir, round, seedDataDir, spawnServer, tempDataDir, transport } from './common.js';
import { WireClient } from './wire.js';

export interface E2eeOptions {
  /** Messages sent each way (plain, then encrypted), one at a time. */
  messages: number;
  /** Members added to the big group. */
  members: number;
}

/** How long one awaited event may take before the row says where it stalled, instead of hanging the whole bench. */
const STEP_LIMIT_MS = 60_000;
function bounded<T>(step: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled ${STEP_LIMIT_MS / 1000} s waiting for ${step}`)), STEP_LIMIT_MS);
  });
  return Promise.race([promise, stalled]).finally(() => clearTimeout(timer));
}

const median = (samples: number[]): number => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const base64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');

export async function e2ee(options: E2eeOptions): Promise<Result> {
  const dataDir = tempDataDir();
  if (transport.tls) await loadOrCreateIdentity(dataDir);
  const accounts = await seedDataDir(dataDir, options.members + 2);
  const server = await spawnServer('host.ts', ['--data', dataDir, '--max-members', String(options.members + 1)]);
  const chat = (account: Account) => new ChatClient({ host: '127.0.0.1', port: server.port, name: account.name, token: account.token, tls: transport.tls });
  const [alice, bob] = [chat(accounts[0]!), chat(accounts[1]!)];
  const members: WireClient[] = [];
  try {
    await Promise.all([alice.connect(), bob.connect()]);
    const result: Result = { workload: 'e2ee', messages: options.messages, members: options.members };

    // One message at a time, from the send to its display at the other member: plain, then encrypted, in one group of two.
    const { group } = await alice.request('groupCreate', { name: 'pair', members: [accounts[1]!.name] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    const plain: number[] = [];
    for (let i = 0; i < options.messages; i++) {
      const text = `plain ${i}`;
      const shown = new Promise<void>((resolve) => {
        const listener = (message: { text: string }): void => {
          if (message.text !== text) return;
          bob.off('message', listener);
          resolve();
        };
        bob.on('message', listener);
      });
      const started = performance.now();
      await alice.send({ kind: 'group', groupId: group.id }, text);
      await bounded(`plain message ${i} at bob`, shown);
      plain.push(performance.now() - started);
    }
    const [a, b] = [await EncryptedChats.start(alice), await EncryptedChats.start(bob)];
    const conv = groupConversation(group.id);
    const joined = new Promise<void>((resolve) => b.once('joined', () => resolve()));
    await a.create(conv, [accounts[1]!.name]);
    await bounded('bob joining the pair from the welcome', joined);
    const encrypted: number[] = [];
    for (let i = 0; i < options.messages; i++) {
      const text = `encrypted ${i}`;
      const shown = new Promise<void>((resolve) => {
        const listener = (message: DecryptedMessage): void => {
          if (message.text !== text) return;
          b.off('message', listener);
          resolve();
        };
        b.on('message', listener);
      });
      const started = performance.now();
      await a.send(conv, text);
      await bounded(`encrypted message ${i} at bob`, shown);
      encrypted.push(performance.now() - started);
    }
    result['plain_message_ms'] = round(median(plain));
    result['encrypted_message_ms'] = round(median(encrypted));
    result['encrypted_message_vs_plain'] = round(median(encrypted) / median(plain));

    // Adding the members: each has a device with one key package on the host, as an app that started once has.
    const names = accounts.slice(2).map((account) => account.name);
    members.push(...(await Promise.all(accounts.slice(2).map((account) => WireClient.login(server.port, account.name, account.token, transport.tls)))));
    const memberDevices = await Promise.all(
      members.map(async (member) => {
        const deviceId = randomBytes(16).toString('hex');
        const keys = await signatureKeys();
        const { userId } = await member.request<{ userId: number }>('deviceRegister', { deviceId, signatureKey: base64(keys.publicKey) });
        const device = await createDevice(userId, deviceId, keys);
        const bundle = await createKeyPackage(device);
        await member.request('keyPackagesUpload', { deviceId, keyPackages: [base64(bundle.encoded)] });
        return { device, bundle };
      }),
    );
    let started = performance.now();
    const { group: big } = await alice.request('groupCreate', { name: 'everyone', members: names });
    await Promise.all(members.map((member) => member.request('groupAnswer', { groupId: big.id, accept: true })));
    const plainAdd = performance.now() - started;
    const bigConv = groupConversation(big.id);
    const bigGroupOfOne = await EncryptedChats.start(alice, { catchUp: false });
    started = performance.now();
    await bigGroupOfOne.create(bigConv, names);
    const mlsAdd = performance.now() - started;
    result[`add_${options.members}_plain_ms`] = round(plainAdd);
    result[`add_${options.members}_encrypted_ms`] = round(plainAdd + mlsAdd);
    result[`add_${options.members}_vs_plain`] = round((plainAdd + mlsAdd) / plainAdd);
    result['members_in_group'] = bigGroupOfOne.members(bigConv)!.length;
    // One of them joins from the welcome the host pushed: what each new member's device spends, on its own.
    const { frames } = await members[0]!.request<{ frames: MlsFrame[] }>('mlsSync', { after: 0, limit: 200 });
    const welcome = frames.find((frame) => frame.conv === bigConv && frame.welcome !== undefined)!.welcome!;
    started = performance.now();
    await joinFromWelcome(memberDevices[0]!.device, memberDevices[0]!.bundle, Buffer.from(welcome, 'base64'));
    result['join_one_ms'] = round(performance.now() - started);
    a.close();
    b.close();
    bigGroupOfOne.close();
    return result;
  } finally {
    for (const member of members) member.close();
    alice.close();
    bob.close();
    await server.stop();
    removeDir(dataDir);
  }
}
