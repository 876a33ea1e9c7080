/**
 * Calls in an end-to-end encrypted conversation (issue 39 with issue 35, PROTOCOL §21.7): the DTLS
 * fingerprints of an endpoint's offers and answers are vouched for inside the conversation's MLS group, so a
 * host that replaced them to sit in the middle of the media is found out. This is WebRTC's own security
 * model (RFC 8827 §6.5: DTLS-SRTP is as good as the integrity of the fingerprints the signalling carries),
 * with MLS as the integrity-protected channel; the rest of the signalling (ICE, codecs) cannot open the media.
 *
 * - Saying: with its first offer or answer to an endpoint, this endpoint sends a `call` application message
 *   naming its fingerprints, again when an endpoint joined since or the fingerprints changed.
 * - Hearing: an offer or answer is passed on only once a `call` message from the same user (as their MLS
 *   credential says) named each of its fingerprints for that call and endpoint; it waits a while for one, counted
 *   from when this app is done adding the sender's devices to the group if none was in it.
 *   Signals from an endpoint stay in order behind a held one; after a refusal the endpoint's signals are dropped.
 */
import type { AppEvent } from '../../src-shared/api.js';
import type { CallInfo, CallSignal } from '../../src-shared/protocol/calls.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';

type SignalPush = Extract<AppEvent, { type: 'callSignal' }>;
type Unverified = Extract<AppEvent, { type: 'callUnverified' }>;

/**
 * How long an offer or answer waits for the `call` message that vouches for it (it is sent with the signal, so
 * it is normally there already), after this app is done adding the sender to the group if it had to.
 */
export const VOUCH_WAIT_MS = 10_000;
/**
 * A voucher that cannot go yet is tried again, the pause doubling from a hundredth of a wait up to a tenth
 * (100 ms to 1 s), for as long as the call goes on, up to VOUCH_TRYING_WAITS waits. Mostly this is a device
 * the conversation's MLS group has not taken in yet: the peer holding its signal is adding it (`admit`),
 * which on a loaded machine can take most of a wait, and that peer then waits a whole one more, in which
 * the next try comes well within.
 */
const VOUCH_RETRY_FIRST = 1 / 100;
const VOUCH_RETRY_MAX = 1 / 10;
const VOUCH_TRYING_WAITS = 6;
/** Calls whose keys are remembered: a few past the one the app is in (a ring, a rejoin). */
const CALLS_KEPT = 16;

/** What a `call` message said, as this device decrypted it: `user` is the name bound to the sender's credential. */
export interface CallKeys {
  conv: ConversationKey;
  user: string;
  callId: string;
  endpoint: string;
  fingerprints: string[];
}

/** The encryption device's side of it (E2eeCore). */
export interface CallKeysDevice {
  /** Whether `conv` is end-to-end encrypted here, so its calls' offers and answers need a voucher. */
  encrypts(conv: ConversationKey): boolean;
  /** Sends a `call` message in `conv` naming `fingerprints` as those of `endpoint` in call `callId`. */
  vouch(conv: ConversationKey, callId: string, endpoint: string, fingerprints: string[]): Promise<void>;
  /** Brings `user`'s devices into `conv`'s MLS group unless one is in it: they can vouch only from inside. */
  admit(conv: ConversationKey, user: string): Promise<void>;
}

/** The fingerprints of an SDP's `a=fingerprint` lines (RFC 8122), as `hash-function VALUE`, each once. */
export function sdpFingerprints(sdp: string): string[] {
  const found = new Set<string>();
  for (const [, hash, value] of sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) found.add(normal(`${hash} ${value}`));
  return [...found];
}

const normal = (fingerprint: string): string => {
  const [hash = '', value = ''] = fingerprint.trim().split(/\s+/);
  return `${hash.toLowerCase()} ${value.toUpperCase()}`;
};

export class CallVerifier {
  /** What `call` messages said, by call and endpoint. */
  private readonly heard = new Map<string, Map<string, { user: string; conv: ConversationKey; fingerprints: Set<string> }>>();
  /** The conversations of the calls this app heard of. */
  private readonly convs = new Map<string, ConversationKey>();
  /**
   * Per call, the fingerprints this app's endpoint named in a voucher (`named`, also in one that could not go:
   * a peer may still hold its signal, and the next voucher has to cover it too), those a voucher that went
   * named, and which endpoints were in the call then; one voucher at a time.
   */
  private readonly said = new Map<string, { named: Set<string>; fingerprints: Set<string>; reached: Set<string>; turn: Promise<void> }>();
  /** The signals of each endpoint (by call and endpoint), handled one at a time in order. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Endpoints refused: their later signals in that call are dropped. */
  private readonly refused = new Set<string>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly device: CallKeysDevice,
    private readonly emit: (event: SignalPush | Unverified) => void,
    private readonly waitMs = VOUCH_WAIT_MS,
  ) {}

  /** A call as the host describes it (a push, or the answer to a start or join). */
  know(call: CallInfo): void {
    if (call.state === 'ended') {
      this.forget(call.id);
      return;
    }
    this.remember(this.convs, call.id, call.conv);
    this.wake();
  }

  /** What a `call` message said. */
  hear(keys: CallKeys): void {
    let endpoints = this.heard.get(keys.callId);
    if (endpoints === undefined) endpoints = this.remember(this.heard, keys.callId, new Map());
    const known = endpoints.get(keys.endpoint);
    // An endpoint is one connection of one user in one conversation: what another names for it is not believed.
    if (known !== undefined && (nameKey(known.user) !== nameKey(keys.user) || known.conv !== keys.conv)) return;
    const fingerprints = known?.fingerprints ?? new Set<string>();
    for (const fingerprint of keys.fingerprints) fingerprints.add(normal(fingerprint));
    endpoints.set(keys.endpoint, { user: keys.user, conv: keys.conv, fingerprints });
    this.wake();
  }

  /**
   * As this app's endpoint sends `signal` to `to`: an offer or answer in an encrypted conversation is vouched
   * for, unless it was already for these fingerprints since `to` joined.
   */
  async vouchFor(call: CallInfo, endpoint: string, to: string, signal: CallSignal): Promise<void> {
    if ((signal.kind !== 'offer' && signal.kind !== 'answer') || !this.device.encrypts(call.conv)) return;
    const fingerprints = sdpFingerprints(signal.sdp);
    // Nothing to vouch for: DTLS cannot start from such a description, and a verifying peer refuses it.
    if (fingerprints.length === 0) return;
    let said = this.said.get(call.id);
    if (said === undefined) said = this.remember(this.said, call.id, { named: new Set(), fingerprints: new Set(), reached: new Set(), turn: Promise.resolve() });
    const mine = said;
    const turn = mine.turn.then(async () => {
      if (mine.reached.has(to) && fingerprints.every((fingerprint) => mine.fingerprints.has(fingerprint))) return;
      for (const fingerprint of fingerprints) mine.named.add(fingerprint);
      const all = [...mine.named];
      // Who is in the call now hears it (or reads it on catching up), so the next offer to them needs no other.
      const present = [to, ...call.participants.map((participant) => participant.endpoint)];
      await this.vouchSoon(() => this.said.get(call.id) === mine, () => this.device.vouch(call.conv, call.id, endpoint, all));
      for (const fingerprint of all) mine.fingerprints.add(fingerprint);
      for (const reached of present) mine.reached.add(reached);
    });
    mine.turn = turn.catch(() => undefined);
    await turn;
  }

  /** A signal pushed for this app's endpoint: passed on once it is verified, in order behind the endpoint's earlier ones. */
  received(push: SignalPush): void {
    const key = `${push.callId} ${push.from}`;
    const next = (this.queues.get(key) ?? Promise.resolve())
      .then(async () => {
        if (await this.verified(push, key)) this.emit(push);
      })
      // The queue goes on after a listener's failure: the endpoint's next signals still pass.
      .catch((error: unknown) => console.error(`lanchat: a call signal could not be passed on: ${error instanceof Error ? error.message : String(error)}`));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  private async verified(push: SignalPush, key: string): Promise<boolean> {
    const conv = await this.until(() => this.convs.get(push.callId));
    if (conv === undefined) return false;
    if (!this.device.encrypts(conv)) return true;
    if (this.refused.has(key)) return false;
    const { signal } = push;
    // Candidates and restarts cannot open the media: DTLS checks the fingerprints an offer or answer carries.
    if (signal.kind !== 'offer' && signal.kind !== 'answer') return true;
    const fingerprints = sdpFingerprints(signal.sdp);
    const vouched = (): boolean | undefined => {
      // The call ended while its signal waited: nothing to refuse, nobody to tell.
      if (!this.convs.has(push.callId)) return false;
      const keys = this.heard.get(push.callId)?.get(push.from);
      const covers = keys !== undefined && keys.conv === conv && nameKey(keys.user) === nameKey(push.user) && fingerprints.every((fingerprint) => keys.fingerprints.has(fingerprint));
      return fingerprints.length > 0 && covers ? true : undefined;
    };
    let outcome = vouched();
    if (outcome === undefined) {
      // A member who joined the conversation since anyone wrote in it is not in its group yet, and cannot vouch
      // until an app adds them: this one does, rather than wait for someone to write, and the wait starts once
      // it is done (the adding, and the voucher the sender then sends, can each take a while on a loaded machine).
      const added = this.device.admit(conv, push.user).catch(() => undefined);
      outcome = await this.until(vouched, added);
    }
    if (outcome !== undefined) return outcome;
    this.refused.add(key);
    const heard = this.heard.get(push.callId)?.get(push.from);
    this.emit({ type: 'callUnverified', callId: push.callId, endpoint: push.from, user: push.user, reason: heard === undefined ? 'missing' : 'mismatch' });
    return false;
  }

  /** `probe`'s value once it has one, or undefined after the wait, which starts once `from` settles. */
  private until<T>(probe: () => T | undefined, from: Promise<unknown> = Promise.resolve()): Promise<T | undefined> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let over = false;
      const done = (value: T | undefined): void => {
        over = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = (): void => {
        const value = probe();
        if (value !== undefined) done(value);
      };
      void from.then(() => {
        if (over) return;
        timer = setTimeout(() => done(undefined), this.waitMs);
        // A wait never keeps the process alive (an app shutting down mid-call).
        timer.unref();
      });
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }

  private forget(callId: string): void {
    this.convs.delete(callId);
    this.heard.delete(callId);
    this.said.delete(callId);
    for (const key of [...this.refused]) if (key.startsWith(`${callId} `)) this.refused.delete(key);
    // Signals held for the call let go.
    this.wake();
  }

  /** `vouch`, tried again while `going` (the call is on) for up to VOUCH_TRYING_WAITS waits. */
  private async vouchSoon(going: () => boolean, vouch: () => Promise<void>): Promise<void> {
    const until = Date.now() + VOUCH_TRYING_WAITS * this.waitMs;
    for (let pause = VOUCH_RETRY_FIRST * this.waitMs; ; pause = Math.min(pause * 2, VOUCH_RETRY_MAX * this.waitMs)) {
      try {
        await vouch();
        return;
      } catch (error) {
        const left = until - Date.now();
        if (left <= 0 || !going()) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)).unref());
      }
    }
  }

  /** Sets a call's entry, the oldest call's going once more than CALLS_KEPT are kept. */
  private remember<T>(map: Map<string, T>, callId: string, value: T): T {
    map.delete(callId);
    map.set(callId, value);
    if (map.size > CALLS_KEPT) map.delete(map.keys().next().value!);
    return value;
  }
}
