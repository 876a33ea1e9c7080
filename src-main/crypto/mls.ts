/**
 * End-to-end encryption of direct messages and groups with MLS (RFC 9420, issue 35), over ts-mls.
 * Plain Node: no Electron, no server. Every value is immutable: an operation returns the group's next
 * state and leaves the one it was given untouched, so a device can keep its current state until the host
 * has put its commit in the conversation's order, and drop the next one if another commit won.
 */

import {
  type ClientConfig,
  type ClientState,
  type Credential,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
  createApplicationMessage,
  createCommit,
  createGroup as createMlsGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetime,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  processPrivateMessage,
  type CiphersuiteImpl,
} from 'ts-mls';
// Not in the package's index but in its exports map: the one way to learn which member sent a message.
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import { getCredentialFromLeafIndex } from 'ts-mls/ratchetTree.js';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { toLeafIndex } from 'ts-mls/treemath.js';

/** The one cipher suite: RFC 9420's mandatory one, and the one whose working-group test vectors we check. */
export const CIPHER_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';

/** Who a device is: the user's id in the room and a random id of the device (app profile or terminal install). */
export interface DeviceId {
  readonly userId: number;
  readonly deviceId: string;
}

/** A device's long-lived keys: its credential and the Ed25519 key pair that signs all it sends. */
export interface Device {
  readonly id: DeviceId;
  readonly credential: Credential;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

/** A key package: `encoded` goes to the host for others to add this device; the device keeps the rest until a welcome uses it. */
export interface KeyPackageBundle {
  readonly encoded: Uint8Array;
  readonly keyPackage: KeyPackage;
  readonly privateKeys: PrivateKeyPackage;
}

/** A device's state in one encrypted conversation, at one epoch. */
export interface Group {
  readonly device: Device;
  readonly state: ClientState;
}

export interface CommitResult {
  /** The group after the commit: use it once the host has ordered `commit`; keep the old one if another commit came first. */
  readonly group: Group;
  /** For the members already in the group. */
  readonly commit: Uint8Array;
}

export interface AddResult extends CommitResult {
  /** For the devices added. */
  readonly welcome: Uint8Array;
}

export type Received =
  | { readonly kind: 'message'; readonly group: Group; readonly plaintext: Uint8Array; readonly sender: DeviceId }
  | { readonly kind: 'commit'; readonly group: Group; readonly removed: boolean };

const DEVICE_ID = /^[0-9a-f]{32}$/;
const IDENTITY = /^([1-9]\d{0,15}):([0-9a-f]{32})$/;

let suite: Promise<CiphersuiteImpl> | undefined;

function cipherSuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE));
  return suite;
}

/** The credential's identity is "<userId>:<deviceId>": the user id has no colon, so it parses one way only. */
function encodeIdentity(id: DeviceId): Uint8Array {
  return new TextEncoder().encode(`${id.userId}:${id.deviceId}`);
}

/** The device a credential names, or undefined when it is not one of ours. */
function parseCredential(credential: Credential): DeviceId | undefined {
  if (credential.credentialType !== 'basic') return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(credential.identity);
  } catch {
    return undefined;
  }
  const match = IDENTITY.exec(text);
  if (match === null) return undefined;
  const userId = Number(match[1]);
  return Number.isSafeInteger(userId) ? { userId, deviceId: match[2] as string } : undefined;
}

/**
 * The library accepts every credential by default. We refuse what is not a LanChat device's credential;
 * whether that device really is that user's is the verification's job (safety numbers), not the library's.
 */
const CLIENT_CONFIG: ClientConfig = {
  keyRetentionConfig: defaultKeyRetentionConfig,
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService: { validateCredential: async (credential) => parseCredential(credential) !== undefined },
};

/** A new Ed25519 key pair for a device: a device registers its public key before it knows its user id. */
export async function signatureKeys(): Promise<{ publicKey: Uint8Array; signKey: Uint8Array }> {
  return (await cipherSuite()).signature.keygen();
}

export async function createDevice(userId: number, deviceId: string, keys?: { publicKey: Uint8Array; signKey: Uint8Array }): Promise<Device> {
  if (!Number.isSafeInteger(userId) || userId < 1) throw new Error(`not a user id: ${userId}`);
  if (!DEVICE_ID.test(deviceId)) throw new Error('a device id is 32 lowercase hexadecimal digits');
  const id = { userId, deviceId };
  const { publicKey, signKey } = keys ?? (await signatureKeys());
  return {
    id,
    credential: { credentialType: 'basic', identity: encodeIdentity(id) },
    signaturePublicKey: publicKey,
    signaturePrivateKey: signKey,
  };
}

/** A fresh key package: each one is used for one welcome only (its init key is then spent). */
export async function createKeyPackage(device: Device): Promise<KeyPackageBundle> {
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    device.credential,
    defaultCapabilities(),
    defaultLifetime,
    [],
    { signKey: device.signaturePrivateKey, publicKey: device.signaturePublicKey },
    await cipherSuite(),
  );
  const encoded = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage });
  return { encoded, keyPackage: publicPackage, privateKeys: privatePackage };
}

export async function createGroup(device: Device, groupId: Uint8Array): Promise<Group> {
  const bundle = await createKeyPackage(device);
  const state = await createMlsGroup(groupId, bundle.keyPackage, bundle.privateKeys, [], await cipherSuite(), CLIENT_CONFIG);
  return { device, state };
}

function decode(bytes: Uint8Array): MLSMessage {
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  // Trailing bytes would be data no signature covers: refuse them rather than ignore them.
  if (decoded === undefined || decoded[1] !== bytes.length) throw new Error('not an MLS message');
  return decoded[0];
}

/**
 * What anyone can read of an MLS message without its keys, which is what the host checks frames by
 * (docs/PROTOCOL.md §20.3, §20.5, §20.6); undefined for bytes that are not one whole MLS message.
 */
export type Envelope =
  | { readonly kind: 'private'; readonly groupId: Uint8Array; readonly epoch: bigint; readonly contentType: 'application' | 'proposal' | 'commit' }
  | { readonly kind: 'welcome' }
  | { readonly kind: 'keyPackage'; readonly device: DeviceId | undefined; readonly signatureKey: Uint8Array }
  | { readonly kind: 'other' };

export function envelope(bytes: Uint8Array): Envelope | undefined {
  let message: MLSMessage;
  try {
    message = decode(bytes);
  } catch {
    return undefined;
  }
  switch (message.wireformat) {
    case 'mls_private_message': {
      const { groupId, epoch, contentType } = message.privateMessage;
      return { kind: 'private', groupId, epoch, contentType };
    }
    case 'mls_welcome':
      return { kind: 'welcome' };
    case 'mls_key_package': {
      const leaf = message.keyPackage.leafNode;
      return { kind: 'keyPackage', device: parseCredential(leaf.credential), signatureKey: leaf.signaturePublicKey };
    }
    default:
      return { kind: 'other' };
  }
}

/**
 * The device a key package is of and its signature key, once its signature checks against that key (what
 * the host checks at upload is only its clear fields); undefined for anything else.
 */
export async function signedKeyPackage(bytes: Uint8Array): Promise<{ device: DeviceId; signatureKey: Uint8Array } | undefined> {
  let message: MLSMessage;
  try {
    message = decode(bytes);
  } catch {
    return undefined;
  }
  if (message.wireformat !== 'mls_key_package') return undefined;
  const leaf = message.keyPackage.leafNode;
  const device = parseCredential(leaf.credential);
  if (device === undefined || !(await verifyKeyPackage(message.keyPackage, (await cipherSuite()).signature))) return undefined;
  return { device, signatureKey: leaf.signaturePublicKey };
}

export async function addMembers(group: Group, keyPackages: readonly Uint8Array[]): Promise<AddResult> {
  if (keyPackages.length === 0) throw new Error('no key package to add');
  const extraProposals = keyPackages.map((bytes) => {
    const message = decode(bytes);
    if (message.wireformat !== 'mls_key_package') throw new Error('not a key package');
    return { proposalType: 'add' as const, add: { keyPackage: message.keyPackage } };
  });
  // The tree goes in the welcome, so a joiner needs nothing else from the host.
  const result = await createCommit({ state: group.state, cipherSuite: await cipherSuite() }, { extraProposals, ratchetTreeExtension: true });
  if (result.welcome === undefined) throw new Error('the commit made no welcome');
  return {
    group: { device: group.device, state: result.newState },
    commit: encodeMlsMessage(result.commit),
    welcome: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome }),
  };
}

export async function joinFromWelcome(device: Device, bundle: KeyPackageBundle, welcome: Uint8Array): Promise<Group> {
  const message = decode(welcome);
  if (message.wireformat !== 'mls_welcome') throw new Error('not a welcome');
  const state = await joinGroup(message.welcome, bundle.keyPackage, bundle.privateKeys, emptyPskIndex, await cipherSuite(), undefined, undefined, CLIENT_CONFIG);
  return { device, state };
}

/** Of a device's unused key packages, the one a welcome is for (by its reference, RFC 9420 §5.2), if any. */
export async function welcomedBundle(bundles: readonly KeyPackageBundle[], welcome: Uint8Array): Promise<KeyPackageBundle | undefined> {
  const message = decode(welcome);
  if (message.wireformat !== 'mls_welcome') throw new Error('not a welcome');
  const hash = (await cipherSuite()).hash;
  const wanted = message.welcome.secrets.map((secret) => Buffer.from(secret.newMember));
  for (const bundle of bundles) {
    const ref = Buffer.from(await makeKeyPackageRef(bundle.keyPackage, hash));
    if (wanted.some((newMember) => newMember.equals(ref))) return bundle;
  }
  return undefined;
}

/** The devices in the group now, in leaf order. */
export function members(group: Group): DeviceId[] {
  return memberKeys(group).map((member) => member.id);
}

/** The devices in the group now with the signature keys their leaves carry: what every member agreed on, not what the host says. */
export function memberKeys(group: Group): { id: DeviceId; signatureKey: Uint8Array }[] {
  return group.state.ratchetTree.flatMap((node) => {
    if (node?.nodeType !== 'leaf') return [];
    const id = parseCredential(node.leaf.credential);
    return id === undefined ? [] : [{ id, signatureKey: node.leaf.signaturePublicKey }];
  });
}

/** The group's state as bytes to keep (with its secrets: only ever written encrypted, client/e2ee-store.ts). */
export function saveGroup(group: Group): Uint8Array {
  return encodeGroupState(group.state);
}

export function loadGroup(device: Device, bytes: Uint8Array): Group {
  const decoded = decodeGroupState(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length) throw new Error('not a saved MLS group state');
  return { device, state: { ...decoded[0], clientConfig: CLIENT_CONFIG } };
}

/** A key package kept by its device: the encoded package and its private keys, as saved. */
export function loadKeyPackage(encoded: Uint8Array, privateKeys: PrivateKeyPackage): KeyPackageBundle {
  const message = decode(encoded);
  if (message.wireformat !== 'mls_key_package') throw new Error('not a key package');
  return { encoded, keyPackage: message.keyPackage, privateKeys };
}

export async function removeMembers(group: Group, devices: readonly DeviceId[]): Promise<CommitResult> {
  const extraProposals = devices.map((device) => {
    const leafIndex = group.state.ratchetTree.findIndex((node) => {
      if (node?.nodeType !== 'leaf') return false;
      const id = parseCredential(node.leaf.credential);
      return id?.userId === device.userId && id.deviceId === device.deviceId;
    });
    if (leafIndex < 0) throw new Error(`device ${device.userId}:${device.deviceId} is not in the group`);
    // Leaves sit at the even node indexes of the tree.
    return { proposalType: 'remove' as const, remove: { removed: leafIndex / 2 } };
  });
  if (extraProposals.length === 0) throw new Error('no device to remove');
  const result = await createCommit({ state: group.state, cipherSuite: await cipherSuite() }, { extraProposals });
  return { group: { device: group.device, state: result.newState }, commit: encodeMlsMessage(result.commit) };
}

export async function encrypt(group: Group, plaintext: Uint8Array): Promise<{ group: Group; message: Uint8Array }> {
  const result = await createApplicationMessage(group.state, plaintext, await cipherSuite());
  const message = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: result.privateMessage });
  return { group: { device: group.device, state: result.newState }, message };
}

/**
 * An application message or a commit from the host. Throws, leaving `group` as it was, on anything that
 * does not decrypt and verify: tampered, replayed (its key is deleted once used), from another group or
 * epoch, or from a device that is not a member.
 */
export async function receive(group: Group, bytes: Uint8Array): Promise<Received> {
  const message = decode(bytes);
  if (message.wireformat !== 'mls_private_message') throw new Error('only encrypted messages are accepted in a group');
  const cs = await cipherSuite();
  const result = await processPrivateMessage(group.state, message.privateMessage, emptyPskIndex, cs);
  const next = { device: group.device, state: result.newState };
  if (result.kind === 'newState') return { kind: 'commit', group: next, removed: result.newState.groupActiveState.kind === 'removedFromGroup' };
  // processPrivateMessage verified the signature against the sender's leaf but does not say whose leaf it
  // was: read the sender data again with the keys of the message's epoch.
  const epoch = message.privateMessage.epoch;
  const receiver = epoch === group.state.groupContext.epoch ? { senderDataSecret: group.state.keySchedule.senderDataSecret, ratchetTree: group.state.ratchetTree } : group.state.historicalReceiverData.get(epoch);
  const senderData = receiver && (await decryptSenderData(message.privateMessage, receiver.senderDataSecret, cs));
  const sender = receiver && senderData && parseCredential(getCredentialFromLeafIndex(receiver.ratchetTree, toLeafIndex(senderData.leafIndex)));
  if (sender === undefined) throw new Error('the sender of the message is not known');
  return { kind: 'message', group: next, plaintext: result.message, sender };
}
