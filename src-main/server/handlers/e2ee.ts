/**
 * End-to-end encryption on the host (docs/PROTOCOL.md §20): devices, key packages, and the MLS frames
 * of each encrypted conversation, which the host orders (the first commit for an epoch wins), stores
 * and relays without reading. It reads only their clear envelopes (src-main/crypto/mls.ts) to check
 * that a frame is what it claims to be; who may post is decided as the frame is stored.
 */
import { envelope } from '../../crypto/mls.js';
import { E2EE_ID_BASE } from '../../../src-shared/e2ee-app.js';
import { E2EE_LIMITS, type MlsFrame } from '../../../src-shared/protocol/e2ee.js';
import { conversationKind, type ConversationKey } from '../../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import type { MlsFrameRow, MlsRefusal, NewMlsFrame } from '../../store/mls.js';
import type { UserRow } from '../../store/types.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { otherOf, userNamed } from '../lookups.js';
import type { LoggedInSession, Session } from '../session.js';
import { refuseMuted } from './messages.js';

type E2eeHandlers = Pick<Handlers, 'deviceRegister' | 'keyPackagesUpload' | 'keyPackagesClaim' | 'deviceList' | 'mlsCommit' | 'mlsSend' | 'mlsSync'>;

const badRequest = (message: string): ServerError => new ServerError(ErrorCode.BAD_REQUEST, message);
/** Why the downloads of a file deleted for everyone end; being raw bytes, they are cut without it. */
const FILE_GONE = { code: ErrorCode.UNKNOWN_FILE, message: 'the message carrying this file was deleted' };

const unknownDevice = (deviceId: string): ServerError => new ServerError(ErrorCode.UNKNOWN_DEVICE, `no device ${deviceId} of yours`);

/** The frame as `userId` receives it: the welcome only for the users it adds. */
function wireFrame(row: MlsFrameRow, userId: number): MlsFrame {
  const welcomed = row.welcome !== null && row.added.some((device) => device.userId === userId);
  return {
    id: row.id,
    conv: row.conv,
    seq: row.seq,
    epoch: row.epoch,
    kind: row.kind,
    from: row.from,
    fromDevice: row.fromDevice,
    ts: row.ts,
    ...(row.clientMsgId === null ? {} : { clientMsgId: row.clientMsgId }),
    data: Buffer.from(row.data).toString('base64'),
    ...(welcomed ? { welcome: Buffer.from(row.welcome!).toString('base64'), added: row.added.map(({ user, deviceId }) => ({ user, deviceId })) } : {}),
  };
}

/** Who may read the conversation, as the store decides it (`dm` or `groupId`); the room is not encrypted. */
function conversationOf(conv: ConversationKey): Pick<NewMlsFrame, 'dm' | 'groupId'> {
  const [, a, b] = conv.split(':');
  switch (conversationKind(conv)) {
    case 'dm':
      return { dm: { low: Number(a), high: Number(b) } };
    case 'group':
      return { groupId: Number(a) };
    default:
      throw badRequest('the room is not end-to-end encrypted: only dm: and group: conversations carry MLS frames');
  }
}

/** The MLS PrivateMessage in `data`, checked to be of `contentType` in the conversation's group; its epoch. */
function privateMessageEpoch(data: Buffer, conv: ConversationKey, contentType: 'commit' | 'application', field: string): number {
  const found = envelope(data);
  if (found?.kind !== 'private') throw badRequest(`${field}: not an MLS PrivateMessage`);
  if (found.contentType !== contentType) throw badRequest(`${field}: an MLS ${found.contentType}, not ${contentType === 'commit' ? 'a commit' : 'an application message'}`);
  if (!Buffer.from(found.groupId).equals(Buffer.from(conv))) throw badRequest(`${field}: of another MLS group than ${conv}`);
  if (found.epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw badRequest(`${field}: an epoch past 2^53`);
  return Number(found.epoch);
}

function refusedFrame(result: MlsRefusal, conv: ConversationKey, epoch: number): ServerError {
  switch (result.refused) {
    case 'banned':
      return new ServerError(ErrorCode.BANNED, 'you are banned from this room');
    case 'conversation':
      return new ServerError(ErrorCode.UNKNOWN_CONVERSATION, `no conversation ${conv} for you`);
    case 'declined':
      return new ServerError(ErrorCode.CHAT_DECLINED, 'they declined your chat request');
    case 'device':
      return new ServerError(ErrorCode.UNKNOWN_DEVICE, 'that device is not registered to you');
    case 'addedDevice':
      return new ServerError(ErrorCode.UNKNOWN_DEVICE, 'a device in "added" is not registered to its user');
    case 'addedUser':
      return new ServerError(ErrorCode.UNKNOWN_CONVERSATION, `a user in "added" may not read ${conv}`);
    case 'futureEpoch':
      return badRequest(`data: of epoch ${epoch}, after the conversation's`);
    case 'file':
      return new ServerError(ErrorCode.UNKNOWN_FILE, `${result.fileId} is not a file this frame may carry or delete`);
    case 'epoch':
      return new ServerError(
        ErrorCode.EPOCH_TAKEN,
        `the conversation is at epoch ${result.epoch}: another commit was ordered first; process it and commit again`,
      );
  }
}

export function e2eeHandlers(ctx: ServerContext): E2eeHandlers {
  const { store, fanOut, roster } = ctx;

  /** Stores the frame and pushes it to every reader but the sending connection, in frame id order (ctx.publish). */
  function append(session: Session, frame: NewMlsFrame): Promise<{ frame: MlsFrameRow; duplicate: boolean; readers: number[] }> {
    return ctx.publish.run(async () => {
      const result = await store.appendMlsFrame(frame);
      if ('refused' in result) throw refusedFrame(result, frame.conv, frame.epoch);
      if (!result.duplicate) {
        const welcomed = new Set(result.frame.added.map((device) => device.userId));
        const others = result.readers.filter((userId) => !welcomed.has(userId));
        if (others.length > 0) fanOut.push(others, { type: 'mls', frame: wireFrame(result.frame, 0) }, session);
        for (const userId of welcomed) fanOut.push([userId], { type: 'mls', frame: wireFrame(result.frame, userId) }, session);
      }
      return result;
    });
  }

  /** The frame a device posts, its envelope checked (refusing a muted sender first, as `send` does). */
  function posted(session: LoggedInSession, request: { conv: ConversationKey; deviceId: string }, kind: NewMlsFrame['kind'], text: string, field: string): NewMlsFrame {
    refuseMuted(ctx, session.user);
    const readers = conversationOf(request.conv);
    const data = Buffer.from(text, 'base64');
    const epoch = privateMessageEpoch(data, request.conv, kind, field);
    return { conv: request.conv, ...readers, senderId: session.user.id, deviceId: request.deviceId, kind, epoch, data, ts: ctx.clock.now() };
  }

  /**
   * Tells the senders of the application frames a user fetched that they arrived, as `sync` does for
   * messages (§8.6): `upTo` is the newest such frame's message id (§20.12) in each conversation.
   */
  function reportFetched(userId: number, frames: readonly MlsFrameRow[]): void {
    const newest = new Map<string, { senderId: number; conv: ConversationKey; upTo: number }>();
    for (const frame of frames) {
      if (frame.kind !== 'application' || frame.senderId === userId) continue;
      newest.set(`${frame.senderId} ${frame.conv}`, { senderId: frame.senderId, conv: frame.conv, upTo: E2EE_ID_BASE + frame.id });
    }
    for (const { senderId, conv, upTo } of newest.values()) fanOut.push([senderId], { type: 'delivered', conv, upTo });
  }

  /**
   * Users this node told of within the window (ctx.presenceWindowMs), with the devices held to its end for
   * another telling. Uploading and claiming one's own key packages in a loop so costs those with a chat with
   * them at most one push per window, as presence does (presence.ts).
   */
  const readyWindows = new Map<number, { held: Set<string> }>();

  /**
   * A device of `user` had no key package and has some now, so it can be added: they and those with a chat
   * with them (asked or accepted) or a group hear it, at most once a window, and a message waiting for it
   * goes, or an app in their conversations adds it (§20.3).
   */
  function deviceReady(user: UserRow, deviceIds: readonly string[]): void {
    const open = readyWindows.get(user.id);
    if (open) {
      for (const deviceId of deviceIds) open.held.add(deviceId);
      return;
    }
    const window = { held: new Set<string>() };
    readyWindows.set(user.id, window);
    void tellReady(user, deviceIds);
    setTimeout(() => {
      readyWindows.delete(user.id);
      if (window.held.size > 0) deviceReady(user, [...window.held]);
    }, ctx.presenceWindowMs).unref();
  }

  async function tellReady(user: UserRow, devices: readonly string[]): Promise<void> {
    try {
      const chats = (await store.relationsOf(user.id)).filter((relation) => relation.state !== 'declined');
      // The user's own sessions too: their other apps add a new one to their conversations.
      const told = new Set([user.id, ...chats.map((relation) => otherOf(relation, user.id)), ...(await store.coMemberIds(user.id))]);
      fanOut.push([...told], { type: 'deviceReady', user: user.name, devices: [...devices] });
    } catch (error) {
      // The host closing, or its database failing: the upload stands, and their next send claims anyway.
      ctx.log.warn('could not tell of a device ready', { user: user.name, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async function addedDevices(devices: readonly { user: string; deviceId: string }[]): Promise<{ userId: number; deviceId: string }[]> {
    const users = new Map<string, UserRow>();
    const found: { userId: number; deviceId: string }[] = [];
    for (const { user, deviceId } of devices) {
      const named = users.get(user) ?? (await userNamed(store, user));
      users.set(user, named);
      found.push({ userId: named.id, deviceId });
    }
    return found;
  }

  return {
    deviceRegister: async (session, request) => {
      const result = await store.registerDevice(
        session.user.id,
        request.deviceId,
        Buffer.from(request.signatureKey, 'base64'),
        ctx.clock.now(),
        E2EE_LIMITS.maxDevicesPerUser,
      );
      if ('refused' in result) {
        throw result.refused === 'taken'
          ? new ServerError(ErrorCode.DEVICE_TAKEN, `device ${request.deviceId} is registered to you with another signature key`)
          : new ServerError(ErrorCode.LIMIT_REACHED, `you have ${E2EE_LIMITS.maxDevicesPerUser} devices, as many as a user may register`);
      }
      return { userId: session.user.id, ...result };
    },

    keyPackagesUpload: async (session, request) => {
      const me = session.user;
      const device = await store.device(me.id, request.deviceId);
      if (device === undefined) throw unknownDevice(request.deviceId);
      const checked = (text: string, field: string): Buffer => {
        const bytes = Buffer.from(text, 'base64');
        const found = envelope(bytes);
        if (found?.kind !== 'keyPackage') throw badRequest(`${field}: not an MLS key package`);
        if (found.device?.userId !== me.id || found.device.deviceId !== request.deviceId) throw badRequest(`${field}: its credential is not "${me.id}:${request.deviceId}"`);
        if (!Buffer.from(found.signatureKey).equals(device.signatureKey)) throw badRequest(`${field}: signed with another key than the device's`);
        return bytes;
      };
      const packages = request.keyPackages.map((text, index) => checked(text, `keyPackages.${index}`));
      const lastResort = request.lastResort === undefined ? undefined : checked(request.lastResort, 'lastResort');
      const result = await store.addKeyPackages(me.id, request.deviceId, packages, E2EE_LIMITS.maxKeyPackagesPerDevice, lastResort);
      if ('refused' in result) {
        throw result.refused === 'device'
          ? unknownDevice(request.deviceId)
          : new ServerError(ErrorCode.LIMIT_REACHED, `the host keeps at most ${E2EE_LIMITS.maxKeyPackagesPerDevice} key packages per device`);
      }
      if (result.keyPackages === packages.length) deviceReady(me, [request.deviceId]);
      return result;
    },

    keyPackagesClaim: async (_session, request) => {
      const user = await userNamed(store, request.user);
      const devices = await store.claimKeyPackages(user.id, request.devices);
      // Claims that are never used (a member who means harm, a commit that lost its epoch) would leave the
      // device with its last-resort package only, used again and again, until its app next starts: its app
      // hears and uploads more (a user's own claim too: it spends a package of each of their other devices).
      for (const { deviceId, keyPackage, left } of devices) {
        if (keyPackage !== undefined && left !== undefined && left < E2EE_LIMITS.keepKeyPackages) {
          fanOut.push([user.id], { type: 'keyPackagesLow', deviceId, keyPackages: left });
        }
      }
      return {
        devices: devices.map(({ deviceId, signatureKey, keyPackage, lastResort }) => ({
          deviceId,
          signatureKey: Buffer.from(signatureKey).toString('base64'),
          ...(keyPackage === undefined ? {} : { keyPackage: Buffer.from(keyPackage).toString('base64') }),
          ...(lastResort ? { lastResort } : {}),
        })),
      };
    },

    deviceList: async (_session, request) => {
      const listed = new Map<string, { deviceId: string; addable: boolean }[]>();
      for (const { user, deviceId, addable } of await store.listDevices([...new Set(request.users.map((name) => nameKey(name.normalize('NFC'))))])) {
        listed.set(user, [...(listed.get(user) ?? []), { deviceId, addable }]);
      }
      return { users: [...listed].map(([user, devices]) => ({ user, devices })) };
    },

    mlsCommit: async (session, request) => {
      const welcome = request.welcome === undefined ? undefined : Buffer.from(request.welcome, 'base64');
      const frame = posted(session, request, 'commit', request.commit, 'commit');
      if (welcome !== undefined && envelope(welcome)?.kind !== 'welcome') throw badRequest('welcome: not an MLS welcome');
      const added = request.added === undefined ? undefined : await addedDevices(request.added);
      const stored = await append(session, { ...frame, ...(welcome === undefined ? {} : { welcome }), ...(added === undefined ? {} : { added }) });
      return { frame: wireFrame(stored.frame, session.user.id) };
    },

    mlsSend: async (session, request) => {
      const frame = { ...posted(session, request, 'application', request.data, 'data'), clientMsgId: request.clientMsgId };
      const files = request.files ?? [];
      const deleteFiles = request.deleteFiles ?? [];
      if (ctx.files === null && files.length + deleteFiles.length > 0) throw new ServerError(ErrorCode.UNKNOWN_FILE, 'this host takes no files');
      // Held as `send` holds its attachments (§18.6), so no other send on this node takes them meanwhile. A
      // resend's files are its stored frame's already: the store answers it as the duplicate it is (§20.6).
      const resend = files.length > 0 && request.clientMsgId !== undefined && (await store.mlsClientIdUsed(session.user.id, request.clientMsgId));
      const claimed = files.length > 0 && !resend ? await ctx.files!.claim(session.user, files.map((fileId) => ({ fileId }))) : null;
      try {
        const stored = await append(session, { ...frame, ...(files.length > 0 ? { files } : {}), ...(deleteFiles.length > 0 ? { deleteFiles } : {}) });
        // The files deleted went from the store with their frame's change: who was still fetching one stops (§18.1).
        if (!stored.duplicate) for (const fileId of deleteFiles) fanOut.end({ fileId }, FILE_GONE);
        // As for `send`: pushed to another reader's online session (a resend was answered so the first time).
        const delivered = !stored.duplicate && roster.anyoneElseOnline(stored.readers, session.user.id);
        return { frame: wireFrame(stored.frame, session.user.id), duplicate: stored.duplicate, delivered };
      } finally {
        claimed?.release();
      }
    },

    mlsSync: async (session, request) => {
      const limit = request.limit ?? LIMITS.defaultPageSize;
      // One more than asked: whether more follow.
      const rows = await store.mlsFrames(session.user.id, request.after, limit + 1);
      const frames = rows.slice(0, limit);
      reportFetched(session.user.id, frames);
      return { frames: frames.map((row) => wireFrame(row, session.user.id)), hasMore: rows.length > limit };
    },
  };
}
