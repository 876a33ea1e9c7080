/**
 * End-to-end encryption's wire (docs/PROTOCOL.md §20, issue 35): devices, key packages and the MLS
 * frames the host orders per conversation and relays without reading. MLS bytes travel as standard
 * base64 (with padding) of an RFC 9420 MLSMessage.
 */
import { z } from 'zod';
import { conversationKey, messageId, nameField } from './objects.js';

/** Fixed limits of §20 (not announced). */
export const E2EE_LIMITS = {
  /** Devices one user may register. */
  maxDevicesPerUser: 10,
  /** Key packages the host keeps for one device. */
  maxKeyPackagesPerDevice: 100,
  /** Key packages a device keeps on the host: a claim that leaves it fewer tells its user (keyPackagesLow). */
  keepKeyPackages: 10,
  /** Key packages one keyPackagesUpload may carry. */
  maxKeyPackagesPerUpload: 20,
  /** Bytes of one key package. */
  maxKeyPackageBytes: 4096,
  /** Bytes of an application message's ciphertext: a text of 8000 characters and its envelope fit. */
  maxApplicationBytes: 65_536,
  /** Bytes of a commit, and of a welcome. */
  maxHandshakeBytes: 262_144,
  /** Devices one commit may name in `added`. */
  maxAddedDevices: 1000,
  /** Users one deviceList may name. */
  maxListedUsers: 100,
} as const;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 of at most `bytes` bytes. */
function base64(bytes: number) {
  return z
    .string()
    .min(1)
    .max(Math.ceil(bytes / 3) * 4)
    .regex(BASE64, 'not standard base64');
}

/** A device: 32 lower-case hex digits the device chose at random once. */
export const deviceId = z.string().regex(/^[0-9a-f]{32}$/, 'a device id is 32 lower-case hexadecimal digits');
/** An Ed25519 public key, 32 bytes. */
export const signatureKey = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key is 32 bytes of base64');
export const keyPackage = base64(E2EE_LIMITS.maxKeyPackageBytes);
export const applicationBytes = base64(E2EE_LIMITS.maxApplicationBytes);
export const handshakeBytes = base64(E2EE_LIMITS.maxHandshakeBytes);

/** A device of a user, as named to the host. */
export const deviceRef = z.strictObject({ user: nameField, deviceId });

/**
 * A user's device as keyPackagesClaim answers it: with one key package, taken for you; with its last-resort one
 * (lastResort), which others may be given too, when it had no other; with none when it had neither.
 */
export const claimedDevice = z.object({ deviceId, signatureKey, keyPackage: keyPackage.optional(), lastResort: z.literal(true).optional() });
export type ClaimedDevice = z.infer<typeof claimedDevice>;
/** A user's devices as deviceList answers it: `addable`, whether a claim would give it a key package now. */
export const listedUser = z.object({ user: z.string(), devices: z.array(z.object({ deviceId, addable: z.boolean() })) });

/** One MLS frame as the host ordered it in its conversation (§20.4). */
export const mlsFrame = z.object({
  /** The host's id of the frame, increasing across all conversations: mlsSync's cursor. */
  id: messageId,
  conv: conversationKey,
  /** The frame's place in its conversation: 1, 2, 3… with no gap. */
  seq: z.number().int().positive(),
  /** The MLS epoch the frame was sent in (a commit: the epoch it ends). */
  epoch: z.number().int().min(0),
  kind: z.enum(['commit', 'application']),
  /** The sender's user name and device. */
  from: z.string(),
  fromDevice: deviceId,
  ts: z.number().int().min(0),
  /** An application message's clientMsgId. */
  clientMsgId: z.string().optional(),
  data: z.string(),
  /** A commit that added devices: the welcome, only in frames for the users it added. */
  welcome: z.string().optional(),
  /** A commit that added devices: which ones (only with `welcome`). */
  added: z.array(z.object({ user: z.string(), deviceId })).optional(),
});
export type MlsFrame = z.infer<typeof mlsFrame>;

export const mlsFramePage = z.object({ frames: z.array(mlsFrame), hasMore: z.boolean() });
