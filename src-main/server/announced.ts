/** The limits hello announces (docs/PROTOCOL.md §7.1): every number a client needs to stay within the host's rules. */
import { type FileLimits, LIMITS } from '../../src-shared/protocol/limits.js';
import type { ServerLimits } from '../../src-shared/protocol/requests.js';
import type { RoomLimits } from './access.js';
import { EXPENSIVE_PER_USER } from './dispatch.js';
import type { RateLimits } from './rate-limit.js';
import type { LoginThrottle } from './throttle.js';

/** What the server was started with that hello announces; the rest is the protocol's or the room's. */
export interface AnnouncedSettings {
  limits: RoomLimits;
  rateLimits: RateLimits;
  loginThrottle: LoginThrottle;
  maxFrameBytes: number;
  maxQueuedBytes: number;
  maxConsecutiveErrors: number;
  heartbeatTimeoutMs: number;
  authTimeoutMs: number;
  frameTimeoutMs: number;
  maxUserBytesPerDay: number | null;
  editWindowMs: number | null;
  files: FileLimits | undefined;
}

/** A token bucket as hello announces it: null when the host turned it off (Infinity). */
function bucket(perSecond: number, burst: number): { perSecond: number; burst: number } | null {
  return Number.isFinite(perSecond) && Number.isFinite(burst) ? { perSecond, burst } : null;
}

export function announcedLimits(settings: AnnouncedSettings): ServerLimits {
  const { limits, rateLimits, loginThrottle } = settings;
  return {
    maxFrameBytes: settings.maxFrameBytes,
    maxQueuedBytes: settings.maxQueuedBytes,
    maxTextLength: LIMITS.maxTextLength,
    maxClientMsgIdLength: LIMITS.maxClientMsgIdLength,
    maxPasswordLength: LIMITS.maxPasswordLength,
    maxPassphraseLength: LIMITS.maxPassphraseLength,
    maxSearchLength: LIMITS.maxSearchLength,
    maxPageSize: LIMITS.maxPageSize,
    defaultPageSize: LIMITS.defaultPageSize,
    maxNameLength: limits.maxNameLength,
    maxGroupNameLength: limits.maxGroupNameLength,
    maxGroupsPerOwner: limits.maxGroupsPerOwner,
    maxGroupMembers: limits.maxGroupMembers,
    maxPendingAccounts: limits.maxPendingAccounts,
    maxUserBytesPerDay: settings.maxUserBytesPerDay,
    heartbeatMs: settings.heartbeatTimeoutMs,
    loginTimeoutMs: settings.authTimeoutMs,
    frameTimeoutMs: settings.frameTimeoutMs,
    maxBadFrames: settings.maxConsecutiveErrors,
    expensiveRequestsPerUser: EXPENSIVE_PER_USER,
    freeLoginFailures: loginThrottle.freeFailures,
    loginDelayMs: loginThrottle.baseDelayMs,
    maxLoginDelayMs: loginThrottle.maxDelayMs,
    frameRate: bucket(rateLimits.framesPerSecond, rateLimits.frameBurst),
    byteRate: bucket(rateLimits.bytesPerSecond, rateLimits.byteBurst),
    accountLoginRate: { perMinute: limits.loginsPerMinute, burst: limits.loginsPerMinute },
    registrationRate: { perMinute: limits.registrationsPerMinute, burst: limits.registrationsPerMinute },
    addressRegistrationRate: { perMinute: limits.addressRegistrationsPerMinute, burst: limits.addressRegistrationsPerMinute },
    editWindowMs: settings.editWindowMs,
    typingIntervalMs: LIMITS.typingIntervalMs,
    maxReactionsPerUser: LIMITS.maxReactionsPerUser,
    changeRate: { perMinute: limits.changesPerMinute, burst: limits.changesPerMinute },
    ...settings.files,
    maxCallParticipants: limits.maxCallParticipants,
    maxVideoCallParticipants: limits.maxVideoCallParticipants,
    callRingMs: limits.callRingMs,
    callReconnectGraceMs: limits.callReconnectGraceMs,
    callSignalRate: { perSecond: limits.callSignalsPerSecond, burst: limits.callSignalBurst },
  };
}
