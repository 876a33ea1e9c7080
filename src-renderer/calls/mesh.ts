/**
 * A call's media: one RTCPeerConnection to each other endpoint in the call (a full mesh), signalled
 * through the host (callSignal) while the media flows directly between the machines.
 *
 * - Host candidates only: no STUN or TURN server, so nothing leaves the LAN and no third party sees it.
 * - Each pair negotiates once: the endpoint whose id sorts first offers; both then use the perfect
 *   negotiation pattern (MDN, "Establishing a connection: the perfect negotiation pattern") for whatever
 *   comes later (an ICE restart), the other side being the polite one.
 * - Every connection carries one audio and one video transceiver from the start, so muting, turning the
 *   camera off and sharing the screen are replaceTrack calls, never a renegotiation.
 * - A negotiated data channel carries what the other side shows about you (muted, camera, sharing).
 */
import type { CallSignal } from './types.js';

/** How long an ICE connection may stay "disconnected" before an ICE restart (a blip often heals alone). */
const DISCONNECTED_GRACE_MS = 2_500;
/** How long a peer may take to connect at all before the call says it cannot be reached. */
export const UNREACHABLE_AFTER_MS = 20_000;
/** How often speaking levels and frame counts are read. */
const STATS_INTERVAL_MS = 500;
/** An audio level (0..1) above which someone counts as speaking. */
const SPEAKING_LEVEL = 0.02;

export type PeerLink = 'connecting' | 'connected' | 'reconnecting' | 'unreachable';

/** What a participant's side shows about itself, sent over the data channel. */
export interface MediaState {
  muted: boolean;
  camera: boolean;
  sharing: boolean;
}

export interface PeerView {
  endpoint: string;
  user: string;
  link: PeerLink;
  /** Their audio and video as they arrive (tracks present from the start, live once media flows). */
  stream: MediaStream;
  media: MediaState;
  speaking: boolean;
}

export interface MeshOptions {
  /** The local media every connection sends: its audio track and its video track (camera or screen), either may be null. */
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  media: MediaState;
  send(to: string, signal: CallSignal): void;
  /** Something about the peers changed (link state, media state, speaking). */
  changed(peers: PeerView[]): void;
  /** Our own audio level crossed the speaking threshold. */
  speaking?(speaking: boolean): void;
}

interface Peer extends PeerView {
  pc: RTCPeerConnection;
  /** Made before the offer by the offering side, after taking the offer by the other. */
  channel: RTCDataChannel | null;
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  /** Candidates that came before the remote description they belong to. */
  early: RTCIceCandidateInit[];
  /** The signals from this peer being applied, in order. */
  signals: Promise<void>;
  disconnectedTimer: ReturnType<typeof setTimeout> | null;
  unreachableTimer: ReturnType<typeof setTimeout> | null;
}

/** Of two endpoints (the host's random ids), the one that sorts first makes the offer. */
export function offersFirst(mine: string, theirs: string): boolean {
  return mine < theirs;
}

export class CallMesh {
  private readonly peers = new Map<string, Peer>();
  /** Endpoints whose side could not be verified end to end (PROTOCOL §21.7): never connected to again in this call. */
  private readonly refused = new Set<string>();
  private readonly statsTimer: ReturnType<typeof setInterval>;
  private selfSpeaking = false;
  private closed = false;

  constructor(
    private readonly endpoint: string,
    private readonly options: MeshOptions,
  ) {
    this.statsTimer = setInterval(() => void this.readLevels(), STATS_INTERVAL_MS);
  }

  /**
   * The call's participants now: connects to those new (offering where this side offers first, else
   * waiting for their offer) and closes the connections to those gone.
   */
  setParticipants(participants: readonly { user: string; endpoint: string }[]): void {
    if (this.closed) return;
    const present = new Set(participants.map((participant) => participant.endpoint));
    for (const endpoint of [...this.peers.keys()]) if (!present.has(endpoint)) this.drop(endpoint);
    for (const { user, endpoint } of participants) {
      if (endpoint === this.endpoint || this.peers.has(endpoint) || this.refused.has(endpoint)) continue;
      if (offersFirst(this.endpoint, endpoint)) this.connect(endpoint, user, true);
    }
  }

  /** A signal from another endpoint of this call. An offer from one not yet known opens its connection. */
  receive(from: string, user: string, signal: CallSignal): void {
    if (this.closed || this.refused.has(from)) return;
    let peer = this.peers.get(from);
    if (peer === undefined) {
      if (signal.kind !== 'offer') return;
      peer = this.connect(from, user, false);
    }
    const taken = peer;
    // One signal at a time per peer, in the order they came: each may await the one before.
    peer.signals = peer.signals.then(() => this.apply(taken, signal));
  }

  private async apply(peer: Peer, signal: CallSignal): Promise<void> {
    const { pc, endpoint: from } = peer;
    if (pc.signalingState === 'closed') return;
    try {
      if (signal.kind === 'restart') {
        pc.restartIce();
        return;
      }
      if (signal.kind === 'candidate') {
        const candidate: RTCIceCandidateInit = { candidate: signal.candidate, sdpMid: signal.sdpMid ?? null, sdpMLineIndex: signal.sdpMLineIndex ?? null };
        if (pc.remoteDescription === null) peer.early.push(candidate);
        else await pc.addIceCandidate(candidate).catch(() => this.ignoredCandidate(peer));
        return;
      }
      const collision = signal.kind === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription({ type: signal.kind, sdp: signal.sdp });
      peer.channel ??= this.openChannel(peer);
      for (const candidate of peer.early.splice(0)) await pc.addIceCandidate(candidate).catch(() => this.ignoredCandidate(peer));
      if (signal.kind === 'offer') {
        this.attachLocal(peer);
        await pc.setLocalDescription();
        this.options.send(from, { kind: 'answer', sdp: pc.localDescription!.sdp });
      }
    } catch (error) {
      // A description that does not apply (a stale answer after a restart) leaves the connection as it was.
      console.warn('call signal from', from, 'not applied:', error);
    }
  }

  /** Sends this track as our video from now on (camera, screen, or null for none), to everyone. */
  async setVideo(track: MediaStreamTrack | null): Promise<void> {
    this.options.video = track;
    await Promise.all([...this.peers.values()].map((peer) => this.videoSender(peer)?.replaceTrack(track)));
  }

  async setAudio(track: MediaStreamTrack | null): Promise<void> {
    this.options.audio = track;
    await Promise.all([...this.peers.values()].map((peer) => this.audioSender(peer)?.replaceTrack(track)));
  }

  setMedia(media: MediaState): void {
    this.options.media = media;
    for (const peer of this.peers.values()) this.tell(peer);
  }

  /** An ICE restart on every connection (after the link to the host came back). */
  restartAll(): void {
    // A working connection stays shown as connected: its ICE state may not change at all.
    for (const peer of this.peers.values()) if (peer.link === 'connected') this.askRestart(peer);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.statsTimer);
    for (const endpoint of [...this.peers.keys()]) this.drop(endpoint);
  }

  private connect(endpoint: string, user: string, offering: boolean): Peer {
    // No iceServers: host candidates only (see the opening comment).
    const pc = new RTCPeerConnection({ iceServers: [] });
    const stream = new MediaStream();
    const peer: Peer = {
      endpoint,
      user,
      link: 'connecting',
      stream,
      media: { muted: false, camera: false, sharing: false },
      speaking: false,
      pc,
      channel: null,
      polite: !offering,
      makingOffer: false,
      ignoreOffer: false,
      early: [],
      signals: Promise.resolve(),
      disconnectedTimer: null,
      unreachableTimer: null,
    };
    this.peers.set(endpoint, peer);
    if (offering) {
      peer.channel = this.openChannel(peer);
      pc.addTransceiver(this.options.audio ?? 'audio', { direction: 'sendrecv' });
      pc.addTransceiver(this.options.video ?? 'video', { direction: 'sendrecv' });
    }
    pc.ontrack = ({ track }) => {
      stream.addTrack(track);
      this.report();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate === null || candidate.candidate === '') return;
      this.options.send(endpoint, {
        kind: 'candidate',
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      });
    };
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        this.options.send(endpoint, { kind: 'offer', sdp: pc.localDescription!.sdp });
      } catch (error) {
        console.warn('call offer to', endpoint, 'failed:', error);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.oniceconnectionstatechange = () => this.linkChanged(peer);
    pc.onconnectionstatechange = () => this.linkChanged(peer);
    peer.unreachableTimer = setTimeout(() => {
      if (peer.link !== 'connected') this.setLink(peer, 'unreachable');
    }, UNREACHABLE_AFTER_MS);
    this.report();
    return peer;
  }

  /** Both sides make the same channel (negotiated, id 0): nothing announces it in band. */
  private openChannel(peer: Peer): RTCDataChannel {
    const channel = peer.pc.createDataChannel('state', { negotiated: true, id: 0 });
    channel.onopen = () => this.tell(peer);
    channel.onmessage = ({ data }) => {
      const media = parseMedia(data);
      if (media === null) return;
      peer.media = media;
      this.report();
    };
    return channel;
  }

  /** The answering side takes the transceivers the offer made and sends on them too. */
  private attachLocal(peer: Peer): void {
    for (const transceiver of peer.pc.getTransceivers()) {
      if (transceiver.sender.track !== null || transceiver.currentDirection === 'stopped') continue;
      const kind = transceiver.receiver.track.kind;
      transceiver.direction = 'sendrecv';
      void transceiver.sender.replaceTrack(kind === 'audio' ? this.options.audio : this.options.video);
    }
  }

  private audioSender(peer: Peer): RTCRtpSender | undefined {
    return peer.pc.getTransceivers().find((transceiver) => transceiver.receiver.track.kind === 'audio')?.sender;
  }

  private videoSender(peer: Peer): RTCRtpSender | undefined {
    return peer.pc.getTransceivers().find((transceiver) => transceiver.receiver.track.kind === 'video')?.sender;
  }

  private linkChanged(peer: Peer): void {
    const { pc } = peer;
    const ice = pc.iceConnectionState;
    if (pc.connectionState === 'connected' || ice === 'connected' || ice === 'completed') {
      if (peer.disconnectedTimer !== null) clearTimeout(peer.disconnectedTimer);
      peer.disconnectedTimer = null;
      if (peer.unreachableTimer !== null) clearTimeout(peer.unreachableTimer);
      peer.unreachableTimer = null;
      this.setLink(peer, 'connected');
      return;
    }
    if (ice === 'failed' || pc.connectionState === 'failed') {
      // Never connected at all: no path between the machines, and an ICE restart will find none either.
      if (peer.link === 'connecting' || peer.link === 'unreachable') {
        this.setLink(peer, 'unreachable');
        return;
      }
      this.restart(peer);
      return;
    }
    if (ice === 'disconnected' && peer.link === 'connected' && peer.disconnectedTimer === null) {
      this.setLink(peer, 'reconnecting');
      peer.disconnectedTimer = setTimeout(() => {
        peer.disconnectedTimer = null;
        if (pc.iceConnectionState === 'disconnected') this.restart(peer);
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** An ICE restart (new candidates, same media); the polite side asks the other to make the offer. */
  private restart(peer: Peer): void {
    this.setLink(peer, 'reconnecting');
    this.askRestart(peer);
  }

  private askRestart(peer: Peer): void {
    if (peer.polite) this.options.send(peer.endpoint, { kind: 'restart' });
    else peer.pc.restartIce();
  }

  private setLink(peer: Peer, link: PeerLink): void {
    if (peer.link === link) return;
    peer.link = link;
    this.report();
  }

  private ignoredCandidate(peer: Peer): void {
    if (!peer.ignoreOffer) console.warn('call candidate from', peer.endpoint, 'not added');
  }

  private tell(peer: Peer): void {
    if (peer.channel?.readyState === 'open') peer.channel.send(JSON.stringify(this.options.media));
  }

  /** An endpoint whose offer or answer could not be verified: its connection closes and is not made again. */
  refuse(endpoint: string): void {
    this.refused.add(endpoint);
    this.drop(endpoint);
  }

  private drop(endpoint: string): void {
    const peer = this.peers.get(endpoint);
    if (peer === undefined) return;
    this.peers.delete(endpoint);
    if (peer.disconnectedTimer !== null) clearTimeout(peer.disconnectedTimer);
    if (peer.unreachableTimer !== null) clearTimeout(peer.unreachableTimer);
    peer.pc.close();
    for (const track of peer.stream.getTracks()) track.stop();
    this.report();
  }

  /** Who speaks: each inbound audio's level, and ours from the outgoing source (read from getStats). */
  private async readLevels(): Promise<void> {
    let changed = false;
    let selfLevel = 0;
    await Promise.all(
      [...this.peers.values()].map(async (peer) => {
        let level = 0;
        const stats = await peer.pc.getStats().catch(() => null);
        stats?.forEach((entry: { type: string; kind?: string; audioLevel?: number }) => {
          if (entry.type === 'inbound-rtp' && entry.kind === 'audio') level = Math.max(level, entry.audioLevel ?? 0);
          if (entry.type === 'media-source' && entry.kind === 'audio') selfLevel = Math.max(selfLevel, entry.audioLevel ?? 0);
        });
        const speaking = !peer.media.muted && level > SPEAKING_LEVEL;
        if (speaking !== peer.speaking) {
          peer.speaking = speaking;
          changed = true;
        }
      }),
    );
    if (changed) this.report();
    const selfSpeaking = !this.options.media.muted && selfLevel > SPEAKING_LEVEL;
    if (selfSpeaking !== this.selfSpeaking) {
      this.selfSpeaking = selfSpeaking;
      this.options.speaking?.(selfSpeaking);
    }
  }

  private report(): void {
    if (this.closed) return;
    this.options.changed(
      [...this.peers.values()].map(({ endpoint, user, link, stream, media, speaking }) => ({ endpoint, user, link, stream, media, speaking })),
    );
  }
}

function parseMedia(data: unknown): MediaState | null {
  if (typeof data !== 'string') return null;
  try {
    const value = JSON.parse(data) as Partial<MediaState>;
    return { muted: value.muted === true, camera: value.camera === true, sharing: value.sharing === true };
  } catch {
    return null;
  }
}
