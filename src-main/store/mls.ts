/**
 * End-to-end encryption's part of the store (docs/PROTOCOL.md §20): devices, the key packages kept
 * for them, and each encrypted conversation's ordered log of MLS frames with its epoch. The host
 * keeps these bytes as it received them and cannot read them. Who may post is decided in the
 * transaction that stores a frame, as for plain messages (messages.ts).
 */
import { row, rows, run, transaction, lockLog, type Dialect, type Query, type Queries } from './query.js';

export interface DeviceRow {
  deviceId: string;
  signatureKey: Buffer;
}

export interface ClaimedKeyPackage extends DeviceRow {
  /** Absent when the device had none left, nor a last-resort one, or was not asked for. */
  keyPackage?: Buffer;
  /** The package is the device's last-resort one, which stays: it had no other left. */
  lastResort?: true;
  /** How many the device holds after this claim; absent for a device not asked for. */
  left?: number;
}

export interface ListedDevice {
  user: string;
  deviceId: string;
  addable: boolean;
}

/** A frame to store: the handler has read its envelope; the store decides whether it may be posted. */
export interface NewMlsFrame {
  conv: string;
  /** The conversation's users: the pair of a DM, or the group. */
  dm?: { low: number; high: number };
  groupId?: number;
  senderId: number;
  deviceId: string;
  kind: 'commit' | 'application';
  /** The epoch in the frame's clear header. */
  epoch: number;
  clientMsgId?: string;
  data: Buffer;
  ts: number;
  welcome?: Buffer;
  added?: readonly { userId: number; deviceId: string }[];
  /** An application frame's files (§20.6): finished uploads of the sender's that nothing carries yet. */
  files?: readonly string[];
  /** Files of the sender's earlier frames in this conversation, deleted as this frame is stored (a delete for everyone). */
  deleteFiles?: readonly string[];
}

export interface MlsFrameRow {
  id: number;
  conv: string;
  seq: number;
  epoch: number;
  kind: 'commit' | 'application';
  senderId: number;
  from: string;
  fromDevice: string;
  ts: number;
  clientMsgId: string | null;
  data: Buffer;
  welcome: Buffer | null;
  /** The devices a commit's welcome is for, with their users' names. */
  added: { userId: number; user: string; deviceId: string }[];
}

/** Why a frame was not stored. */
export type MlsRefusal =
  | { refused: 'banned' | 'conversation' | 'declined' | 'device' | 'addedDevice' | 'addedUser' | 'futureEpoch' }
  /** `fileId` in `files` or `deleteFiles` is not one the frame may carry or delete. */
  | { refused: 'file'; fileId: string }
  | { refused: 'epoch'; epoch: number };

export type MlsAppendResult =
  | { frame: MlsFrameRow; duplicate: boolean; /** The users who may read the conversation, as the transaction read them. */ readers: number[] }
  | MlsRefusal;

export interface MlsStore {
  /** Registers the device, or finds it registered with the same key. */
  registerDevice(
    userId: number,
    deviceId: string,
    signatureKey: Buffer,
    ts: number,
    maxDevices: number,
  ): { keyPackages: number; lastResort: boolean } | { refused: 'taken' | 'limit' };
  /**
   * Adds key packages of a registered device unless that would keep more than `max`, and replaces its
   * last-resort package when `lastResort` is given; how many it keeps (the last-resort one not counted).
   */
  addKeyPackages(
    userId: number,
    deviceId: string,
    keyPackages: readonly Buffer[],
    max: number,
    lastResort?: Buffer,
  ): { keyPackages: number } | { refused: 'device' | 'limit' };
  device(userId: number, deviceId: string): DeviceRow | undefined;
  /**
   * Every device of the user, oldest first, each with its oldest key package, which is deleted, and how many
   * it has left; a device with none left gives its last-resort package, which stays. With `only`, the other
   * devices are listed without a package, none taken.
   */
  claimKeyPackages(userId: number, only?: readonly string[]): ClaimedKeyPackage[];
  /**
   * The devices of the users of those name keys who exist (not pending), oldest first; `addable`: it holds a
   * key package or a last-resort one. A user without devices is not listed.
   */
  listDevices(nameKeys: readonly string[]): ListedDevice[];
  appendMlsFrame(frame: NewMlsFrame): MlsAppendResult;
  /** The frames after `after` of every conversation the user may read now, oldest first. */
  mlsFrames(userId: number, after: number, limit: number): MlsFrameRow[];
  /** Whether the sender stored a frame under that client message id (a resend). */
  mlsClientIdUsed(senderId: number, clientMsgId: string): boolean;
}

/**
 * Deletes every trace of an encrypted conversation's frames: its welcomes' devices, its frames and its
 * epoch. Run in the transaction that deletes the group (groups.ts), so a frame stored meanwhile is
 * either deleted with it or refused (the group's members are gone).
 */
export function* deleteMlsConversation(conv: string): Query<void> {
  yield* run('DELETE FROM mls_welcomes WHERE frame_id IN (SELECT id FROM mls_frames WHERE conv = $1)', [conv]);
  yield* run('DELETE FROM mls_frames WHERE conv = $1', [conv]);
  yield* run('DELETE FROM mls_conversations WHERE conv = $1', [conv]);
}

const FRAME_COLUMNS = `f.id, f.conv, f.seq, f.epoch, f.kind, f.sender_id AS "senderId", u.name AS "from", f.device_id AS "fromDevice",
  f.ts, f.client_msg_id AS "clientMsgId", f.data, f.welcome`;

export function mlsQueries(dialect: Dialect): Queries<MlsStore> {
  function* withAdded(frames: Omit<MlsFrameRow, 'added'>[]): Query<MlsFrameRow[]> {
    const ids = frames.filter((frame) => frame.welcome !== null).map((frame) => frame.id);
    const added =
      ids.length === 0
        ? []
        : yield* rows<{ frameId: number; userId: number; user: string; deviceId: string }>(
            `SELECT w.frame_id AS "frameId", w.user_id AS "userId", u.name AS "user", w.device_id AS "deviceId"
             FROM mls_welcomes w JOIN users u ON u.id = w.user_id WHERE w.frame_id IN ${dialect.list('$1', 'bigint')}
             ORDER BY w.frame_id, w.position`,
            [ids],
          );
    return frames.map((frame) => ({
      ...frame,
      added: added.filter((device) => device.frameId === frame.id).map(({ userId, user, deviceId }) => ({ userId, user, deviceId })),
    }));
  }

  function* frameById(id: number): Query<MlsFrameRow> {
    const found = yield* rows<Omit<MlsFrameRow, 'added'>>(`SELECT ${FRAME_COLUMNS} FROM mls_frames f JOIN users u ON u.id = f.sender_id WHERE f.id = $1`, [id]);
    return (yield* withAdded(found))[0]!;
  }

  function* keyPackageCount(userId: number, deviceId: string): Query<number> {
    const found = yield* row<{ count: number }>('SELECT count(*) AS count FROM mls_key_packages WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
    return Number(found!.count);
  }

  /** The users who may read the conversation now; undefined when the sender may not post to it (see MlsRefusal). */
  function* readersFor(frame: NewMlsFrame): Query<number[] | MlsRefusal> {
    const banned = yield* row(`SELECT 1 AS found FROM users u JOIN bans b ON b.kind = 'name' AND b.value = u.name_key WHERE u.id = $1`, [frame.senderId]);
    if (banned !== undefined) return { refused: 'banned' };
    if (frame.dm !== undefined) {
      const { low, high } = frame.dm;
      if (frame.senderId !== low && frame.senderId !== high) return { refused: 'conversation' };
      const pair = yield* row<{ state: string; requesterId: number }>(
        'SELECT state, requester_id AS "requesterId" FROM relations WHERE user_low = $1 AND user_high = $2',
        [low, high],
      );
      if (pair?.state === 'declined' && pair.requesterId === frame.senderId) return { refused: 'declined' };
      return [low, high];
    }
    const members = (yield* rows<{ userId: number }>('SELECT user_id AS "userId" FROM group_members WHERE group_id = $1 ORDER BY user_id', [frame.groupId])).map(
      (member) => Number(member.userId),
    );
    return members.includes(frame.senderId) ? members : { refused: 'conversation' };
  }

  function* append(frame: NewMlsFrame): Query<MlsAppendResult> {
    // Frame ids are mlsSync's cursor: drawn and committed one transaction at a time, as message ids are (pg/store.ts).
    yield* lockLog();
    if ((yield* row('SELECT 1 AS found FROM mls_devices WHERE user_id = $1 AND device_id = $2', [frame.senderId, frame.deviceId])) === undefined) {
      return { refused: 'device' };
    }
    const readers = yield* readersFor(frame);
    if (!Array.isArray(readers)) return readers;
    if (frame.clientMsgId !== undefined) {
      const earlier = yield* row<{ id: number }>('SELECT id FROM mls_frames WHERE sender_id = $1 AND client_msg_id = $2', [frame.senderId, frame.clientMsgId]);
      if (earlier !== undefined) return { frame: yield* frameById(earlier.id), duplicate: true, readers };
    }
    for (const device of frame.added ?? []) {
      if (!readers.includes(device.userId)) return { refused: 'addedUser' };
      if ((yield* row('SELECT 1 AS found FROM mls_devices WHERE user_id = $1 AND device_id = $2', [device.userId, device.deviceId])) === undefined) {
        return { refused: 'addedDevice' };
      }
    }
    const state = yield* row<{ epoch: number; lastSeq: number }>(
      `SELECT epoch, last_seq AS "lastSeq" FROM mls_conversations WHERE conv = $1 ${dialect.forUpdate}`,
      [frame.conv],
    );
    const epoch = Number(state?.epoch ?? 0);
    const seq = Number(state?.lastSeq ?? 0) + 1;
    // The first commit for an epoch wins (§20.5); an application message may be of an epoch a commit just ended.
    if (frame.kind === 'commit' && frame.epoch !== epoch) return { refused: 'epoch', epoch };
    if (frame.kind === 'application' && frame.epoch > epoch) return { refused: 'futureEpoch' };
    const files = frame.files ?? [];
    const carried = yield* rows<{ id: string }>(
      `SELECT id FROM files WHERE id IN ${dialect.list('$1', 'text')} AND uploader_id = $2 AND message_id IS NULL AND mls_frame_id IS NULL ${dialect.forUpdate}`,
      [files, frame.senderId],
    );
    const notCarried = files.find((id) => !carried.some((file) => file.id === id));
    if (notCarried !== undefined) return { refused: 'file', fileId: notCarried };
    const deleting = frame.deleteFiles ?? [];
    const deletable = yield* rows<{ id: string }>(
      `SELECT f.id FROM files f JOIN mls_frames fr ON fr.id = f.mls_frame_id
       WHERE f.id IN ${dialect.list('$1', 'text')} AND f.uploader_id = $2 AND fr.conv = $3`,
      [deleting, frame.senderId, frame.conv],
    );
    const notDeletable = deleting.find((id) => !deletable.some((file) => file.id === id));
    if (notDeletable !== undefined) return { refused: 'file', fileId: notDeletable };
    yield* run(
      `INSERT INTO mls_conversations (conv, epoch, last_seq) VALUES ($1, $2, $3)
       ON CONFLICT (conv) DO UPDATE SET epoch = excluded.epoch, last_seq = excluded.last_seq`,
      [frame.conv, frame.kind === 'commit' ? epoch + 1 : epoch, seq],
    );
    const stored = yield* rows<{ id: number }>(
      `INSERT INTO mls_frames (conv, seq, epoch, kind, sender_id, device_id, client_msg_id, data, welcome, ts, group_id, dm_low, dm_high)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        frame.conv,
        seq,
        frame.epoch,
        frame.kind,
        frame.senderId,
        frame.deviceId,
        frame.clientMsgId ?? null,
        frame.data,
        frame.welcome ?? null,
        frame.ts,
        frame.groupId ?? null,
        frame.dm?.low ?? null,
        frame.dm?.high ?? null,
      ],
    );
    const id = Number(stored[0]!.id);
    // The two now exchanged a message, as a plain one would record it: the DM is theirs to list (readState, events).
    if (frame.dm !== undefined && frame.kind === 'application') {
      yield* run('INSERT INTO dm_partners (user_id, partner_id) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING', [frame.dm.low, frame.dm.high]);
    }
    for (const [position, device] of (frame.added ?? []).entries()) {
      yield* run('INSERT INTO mls_welcomes (frame_id, position, user_id, device_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        id,
        position,
        device.userId,
        device.deviceId,
      ]);
    }
    if (files.length > 0) yield* run(`UPDATE files SET mls_frame_id = $1 WHERE id IN ${dialect.list('$2', 'text')}`, [id, files]);
    if (deleting.length > 0) yield* run(`DELETE FROM files WHERE id IN ${dialect.list('$1', 'text')}`, [deleting]);
    return { frame: yield* frameById(id), duplicate: false, readers };
  }

  return {
    registerDevice: (userId, deviceId, signatureKey, ts, maxDevices) =>
      transaction(
        (function* () {
          const found = yield* row<DeviceRow & { lastResort: number }>(
            `SELECT device_id AS "deviceId", signature_key AS "signatureKey", CASE WHEN last_resort IS NULL THEN 0 ELSE 1 END AS "lastResort"
             FROM mls_devices WHERE user_id = $1 AND device_id = $2`,
            [userId, deviceId],
          );
          if (found !== undefined) {
            if (!Buffer.from(found.signatureKey).equals(signatureKey)) return { refused: 'taken' as const };
            return { keyPackages: yield* keyPackageCount(userId, deviceId), lastResort: found.lastResort === 1 };
          }
          const devices = yield* row<{ count: number }>('SELECT count(*) AS count FROM mls_devices WHERE user_id = $1', [userId]);
          if (Number(devices!.count) >= maxDevices) return { refused: 'limit' as const };
          yield* run('INSERT INTO mls_devices (user_id, device_id, signature_key, created_at) VALUES ($1, $2, $3, $4)', [userId, deviceId, signatureKey, ts]);
          return { keyPackages: 0, lastResort: false };
        })(),
      ),
    addKeyPackages: (userId, deviceId, keyPackages, max, lastResort) =>
      transaction(
        (function* () {
          if ((yield* row('SELECT 1 AS found FROM mls_devices WHERE user_id = $1 AND device_id = $2', [userId, deviceId])) === undefined) {
            return { refused: 'device' as const };
          }
          const kept = yield* keyPackageCount(userId, deviceId);
          if (kept + keyPackages.length > max) return { refused: 'limit' as const };
          for (const keyPackage of keyPackages) {
            yield* run('INSERT INTO mls_key_packages (user_id, device_id, key_package) VALUES ($1, $2, $3)', [userId, deviceId, keyPackage]);
          }
          if (lastResort !== undefined) yield* run('UPDATE mls_devices SET last_resort = $3 WHERE user_id = $1 AND device_id = $2', [userId, deviceId, lastResort]);
          return { keyPackages: kept + keyPackages.length };
        })(),
      ),
    device: (userId, deviceId) =>
      row<DeviceRow>('SELECT device_id AS "deviceId", signature_key AS "signatureKey" FROM mls_devices WHERE user_id = $1 AND device_id = $2', [userId, deviceId]),
    claimKeyPackages: (userId, only) =>
      transaction(
        (function* () {
          const devices = yield* rows<DeviceRow & { lastResort: Buffer | null }>(
            `SELECT device_id AS "deviceId", signature_key AS "signatureKey", last_resort AS "lastResort"
             FROM mls_devices WHERE user_id = $1 ORDER BY created_at, device_id`,
            [userId],
          );
          const claimed: ClaimedKeyPackage[] = [];
          for (const { lastResort, ...device } of devices) {
            if (only !== undefined && !only.includes(device.deviceId)) {
              claimed.push(device);
              continue;
            }
            const taken = yield* rows<{ keyPackage: Buffer }>(
              `DELETE FROM mls_key_packages WHERE id = (SELECT id FROM mls_key_packages WHERE user_id = $1 AND device_id = $2 ORDER BY id LIMIT 1)
               RETURNING key_package AS "keyPackage"`,
              [userId, device.deviceId],
            );
            const keyPackage = taken[0]?.keyPackage;
            if (keyPackage !== undefined) claimed.push({ ...device, keyPackage, left: yield* keyPackageCount(userId, device.deviceId) });
            else claimed.push(lastResort === null ? { ...device, left: 0 } : { ...device, keyPackage: lastResort, lastResort: true, left: 0 });
          }
          return claimed;
        })(),
      ),
    *listDevices(nameKeys) {
      const found = yield* rows<Omit<ListedDevice, 'addable'> & { addable: number }>(
        `SELECT u.name AS "user", d.device_id AS "deviceId",
           CASE WHEN d.last_resort IS NOT NULL OR EXISTS (SELECT 1 FROM mls_key_packages k WHERE k.user_id = d.user_id AND k.device_id = d.device_id)
             THEN 1 ELSE 0 END AS "addable"
         FROM mls_devices d JOIN users u ON u.id = d.user_id
         WHERE u.name_key IN ${dialect.list('$1', 'text')} AND u.status <> 'pending' ORDER BY u.id, d.created_at, d.device_id`,
        [nameKeys],
      );
      return found.map((device) => ({ ...device, addable: device.addable === 1 }));
    },
    appendMlsFrame: (frame) => transaction(append(frame), 'that client message id is taken'),
    *mlsFrames(userId, after, limit) {
      const found = yield* rows<Omit<MlsFrameRow, 'added'>>(
        `SELECT ${FRAME_COLUMNS} FROM mls_frames f JOIN users u ON u.id = f.sender_id
         WHERE f.id > $1 AND (f.dm_low = $2 OR f.dm_high = $2 OR f.group_id IN (SELECT group_id FROM group_members WHERE user_id = $2))
         ORDER BY f.id LIMIT $3`,
        [after, userId, limit],
      );
      return yield* withAdded(found);
    },
    *mlsClientIdUsed(senderId, clientMsgId) {
      return (yield* row('SELECT 1 AS found FROM mls_frames WHERE sender_id = $1 AND client_msg_id = $2', [senderId, clientMsgId])) !== undefined;
    },
  };
}
