/**
 * This window's side of calls: answers the user's call actions with the App API (callStart, callJoin,
 * callDecline, callLeave), opens and closes the local media, runs the mesh of peer connections and
 * keeps the store's `inCall` true to all of it. The main window has one; popped-out chat windows none.
 */
import type { AppEvent, Result } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { AppContext } from '../store/sync.js';
import type { InCall } from '../store/calls.js';
import { DEFAULT_DEVICES, type DeviceKind, mediaErrorKind, openCamera, openMicrophone, openScreen } from './media.js';
import { CallMesh } from './mesh.js';
import type { CallInfo, CallSignalEvent } from './types.js';

export type CallOutcome = Result<void>;

function failed(code: string, message: string): CallOutcome {
  return { ok: false, error: { code, message } };
}

export class CallController {
  private mesh: CallMesh | null = null;
  private audio: MediaStreamTrack | null = null;
  private camera: MediaStreamTrack | null = null;
  private screen: MediaStreamTrack | null = null;
  /** Signals that came while joining, before this side knew its endpoint. */
  private early: CallSignalEvent[] = [];
  /** The link to the host dropped during the call (and has not come back yet). */
  private linkWasDown = false;
  /** The store's inCall is this side's: set from entering a call until its teardown. */
  private entered = false;
  private readonly unsubscribe: () => void;
  private readonly unwatch: () => void;

  constructor(private readonly ctx: AppContext) {
    this.unsubscribe = ctx.api.onEvent((event) => this.onEvent(event));
    // Leaving the room (or switching users) forgets the call in the store: its media goes with it.
    this.unwatch = ctx.store.subscribe((state) => {
      if (this.entered && state.inCall === null) this.release();
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.unwatch();
    this.teardown();
  }

  /** Starts a call in the conversation and rings its other members. */
  start(conv: ConversationKey, video: boolean): Promise<CallOutcome> {
    return this.enter(conv, video, () => this.ctx.api.callStart(conv, video));
  }

  /** Answers a ringing call or joins one running. */
  join(call: CallInfo, video: boolean): Promise<CallOutcome> {
    this.ctx.store.getState().noteAnswered(call.id);
    return this.enter(call.conv, video, () => this.ctx.api.callJoin(call.id));
  }

  async decline(call: CallInfo): Promise<CallOutcome> {
    this.ctx.store.getState().noteAnswered(call.id);
    return this.ctx.api.callDecline(call.id);
  }

  async hangUp(): Promise<CallOutcome> {
    const inCall = this.ctx.store.getState().inCall;
    if (inCall === null) return { ok: true, value: undefined };
    this.teardown();
    // Still joining: the host has not given this side a place in the call yet.
    if (inCall.id === '') return { ok: true, value: undefined };
    return this.ctx.api.callLeave(inCall.id);
  }

  toggleMute(): void {
    const inCall = this.current();
    if (inCall === null || this.audio === null) return;
    const muted = !inCall.muted;
    // A disabled track sends silence: nothing to renegotiate, and unmuting is instant.
    this.audio.enabled = !muted;
    this.update({ muted });
  }

  async toggleCamera(): Promise<void> {
    const inCall = this.current();
    if (inCall === null) return;
    if (inCall.camera) {
      this.camera?.stop();
      this.camera = null;
      if (!inCall.sharing) await this.mesh?.setVideo(null);
      this.update({ camera: false });
      return;
    }
    try {
      this.camera = await openCamera(inCall.devices.videoinput);
    } catch (error) {
      this.update({ mediaError: mediaErrorKind(error) });
      return;
    }
    if (!inCall.sharing) await this.mesh?.setVideo(this.camera);
    this.update({ camera: true, mediaError: null });
  }

  async toggleShare(): Promise<void> {
    const inCall = this.current();
    if (inCall === null) return;
    if (inCall.sharing) {
      await this.stopSharing();
      return;
    }
    try {
      this.screen = await openScreen();
    } catch (error) {
      // Cancelling the picker is a choice, not an error to show.
      if (!(error instanceof DOMException && error.name === 'NotAllowedError')) this.update({ mediaError: mediaErrorKind(error) });
      return;
    }
    // The browser's own "Stop sharing" ends the track.
    this.screen.addEventListener('ended', () => void this.stopSharing());
    await this.mesh?.setVideo(this.screen);
    this.update({ sharing: true, mediaError: null });
  }

  /** Uses this device from now on; a microphone or camera in use is swapped at once. */
  async pickDevice(kind: DeviceKind, id: string): Promise<void> {
    const inCall = this.current();
    if (inCall === null) return;
    const devices = { ...inCall.devices, [kind]: id };
    try {
      if (kind === 'audioinput') {
        const next = await openMicrophone(id);
        next.enabled = !inCall.muted;
        await this.mesh?.setAudio(next);
        this.audio?.stop();
        this.audio = next;
      } else if (kind === 'videoinput' && inCall.camera) {
        const next = await openCamera(id);
        if (!inCall.sharing) await this.mesh?.setVideo(next);
        this.camera?.stop();
        this.camera = next;
      }
    } catch (error) {
      this.update({ mediaError: mediaErrorKind(error) });
      return;
    }
    this.update({ devices, mediaError: null });
  }

  private async stopSharing(): Promise<void> {
    if (this.screen === null) return;
    this.screen.stop();
    this.screen = null;
    await this.mesh?.setVideo(this.camera);
    this.update({ sharing: false });
  }

  private async enter(conv: ConversationKey, video: boolean, ask: () => Promise<Result<{ call: CallInfo; endpoint: string }>>): Promise<CallOutcome> {
    if (this.current() !== null) await this.hangUp();
    const devices = this.ctx.store.getState().inCall?.devices ?? DEFAULT_DEVICES;
    try {
      this.audio = await openMicrophone(devices.audioinput);
      this.camera = video ? await openCamera(devices.videoinput) : null;
    } catch (error) {
      this.stopTracks();
      return failed(`MEDIA_${mediaErrorKind(error).toUpperCase()}`, error instanceof Error ? error.message : String(error));
    }
    this.early = [];
    this.entered = true;
    this.ctx.store.getState().setInCall({
      id: '',
      conv,
      endpoint: null,
      joinedAt: Date.now(),
      muted: false,
      camera: video,
      sharing: false,
      speaking: false,
      preview: null,
      peers: [],
      devices,
      mediaError: null,
      unverified: [],
    });
    this.refreshPreview();
    const result = await ask();
    if (!result.ok) {
      this.teardown();
      return result;
    }
    const { call, endpoint } = result.value;
    this.ctx.store.getState().upsertCall(call);
    // Hung up (or left the room) while the host answered: leave the call just joined.
    if (!this.entered) return this.ctx.api.callLeave(call.id);
    this.update({ id: call.id, endpoint });
    this.mesh = new CallMesh(endpoint, {
      audio: this.audio,
      video: this.camera,
      media: { muted: false, camera: video, sharing: false },
      send: (to, signal) =>
        void this.ctx.api.callSignal(call.id, to, signal).then((sent) => {
          if (!sent.ok) console.warn(`call signal (${signal.kind}) not sent: ${sent.error.code}: ${sent.error.message}`);
        }),
      changed: (peers) => this.update({ peers }),
      speaking: (speaking) => this.update({ speaking }),
    });
    this.mesh.setParticipants(call.participants);
    for (const signal of this.early.splice(0)) if (signal.callId === call.id && signal.to === endpoint) this.mesh.receive(signal.from, signal.user, signal.signal);
    return { ok: true, value: undefined };
  }

  private onEvent(event: AppEvent): void {
    const inCall = this.current();
    if (event.type === 'session') {
      if (inCall === null) return;
      if (event.session.me === null || event.session.status === 'offline') this.teardown();
      else if (event.session.status === 'reconnecting') this.linkWasDown = true;
      else if (event.session.status === 'online' && this.linkWasDown) {
        // The link to the host came back (the app rejoined the call by itself): whatever broke it may have
        // broken the media paths too, so each connection looks for a path again.
        this.linkWasDown = false;
        this.mesh?.restartAll();
      }
      return;
    }
    if (inCall === null) return;
    if (event.type === 'callSignal') {
      if (this.mesh === null) this.early.push(event);
      else if (event.callId === inCall.id && event.to === inCall.endpoint) this.mesh.receive(event.from, event.user, event.signal);
      return;
    }
    if (event.type === 'callUnverified') {
      if (event.callId !== inCall.id || inCall.unverified.some((refused) => refused.endpoint === event.endpoint)) return;
      this.mesh?.refuse(event.endpoint);
      this.update({ unverified: [...inCall.unverified, { endpoint: event.endpoint, user: event.user, reason: event.reason }] });
      return;
    }
    if (event.type !== 'call' || event.call.id !== inCall.id || inCall.endpoint === null) return;
    const call = event.call;
    if (call.state === 'ended' || !call.participants.some((participant) => participant.endpoint === inCall.endpoint)) {
      this.teardown();
      return;
    }
    this.mesh?.setParticipants(call.participants);
  }

  private current(): InCall | null {
    return this.ctx.store.getState().inCall;
  }

  private update(change: Partial<InCall>): void {
    this.ctx.store.getState().updateInCall(change);
    if ('camera' in change || 'sharing' in change || 'muted' in change) {
      const inCall = this.current();
      if (inCall !== null) this.mesh?.setMedia({ muted: inCall.muted, camera: inCall.camera, sharing: inCall.sharing });
      this.refreshPreview();
    }
  }

  /** Our own tile shows what we send: the shared screen over the camera. */
  private refreshPreview(): void {
    const track = this.screen ?? this.camera;
    const preview = this.current()?.preview ?? null;
    if (preview?.getVideoTracks()[0] === track && (track !== null || preview === null)) return;
    this.ctx.store.getState().updateInCall({ preview: track === null ? null : new MediaStream([track]) });
  }

  private stopTracks(): void {
    for (const track of [this.audio, this.camera, this.screen]) track?.stop();
    this.audio = this.camera = this.screen = null;
  }

  private teardown(): void {
    this.release();
    this.ctx.store.getState().setInCall(null);
  }

  private release(): void {
    this.entered = false;
    this.linkWasDown = false;
    this.mesh?.close();
    this.mesh = null;
    this.early = [];
    this.stopTracks();
  }
}

let instance: CallController | null = null;

/** The main window's calls (made once at start, main.tsx). */
export function startCalls(ctx: AppContext): CallController {
  instance ??= new CallController(ctx);
  return instance;
}

export function calls(): CallController | null {
  return instance;
}

