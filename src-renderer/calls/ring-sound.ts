/**
 * The sounds of a call before anyone answers, made with WebAudio (no asset to ship or license): the ring
 * of an incoming call, and the ringback the caller hears until someone joins. Each follows the store, so
 * it stops the moment what it stands for ends: answered, declined, rung out, hung up. An incoming ring is
 * silent with do-not-disturb on or in a muted conversation (it still shows); the ringback, the echo of your
 * own click, always sounds.
 */
import { isMuted } from '../../src-shared/notify.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { ringingCall } from '../store/calls.js';
import type { AppState } from '../store/types.js';

export type CallSound = 'ring' | 'ringback';

/** Each sound's tones (Hz, sounding together) and, within its period, when they sound (seconds). */
const PATTERNS: Record<CallSound, { tones: number[]; bursts: [number, number][]; period: number }> = {
  // Two short bursts of a major third, the way a phone rings, every 3 s.
  ring: { tones: [523.25, 659.25], bursts: [[0, 0.4], [0.6, 1]], period: 3 },
  // The European ringback's rhythm on the North American ringback's chord: 1 s on, 3 s off.
  ringback: { tones: [440, 480], bursts: [[0, 1]], period: 4 },
};
const VOLUME = 0.12;
/** Fades in and out of each burst: a step from silence clicks. */
const FADE_S = 0.02;
/** Bursts scheduled at once: longer than any ring (the host's callRingMs is at most minutes); stop() closes the context anyway. */
const SCHEDULED_S = 300;

/** Which sound the state calls for now, if any. */
export function callSound(state: AppState, now: number): CallSound | null {
  const me = state.session.me;
  if (state.inCall !== null) {
    const call = state.calls[state.inCall.id];
    return call?.state === 'ringing' && sameName(call.startedBy, me) ? 'ringback' : null;
  }
  const ringing = ringingCall(state, me, now, state.session.limits?.callRingMs);
  if (ringing === undefined) return null;
  const settings = state.settings;
  if (settings !== null && (settings.doNotDisturb || isMuted(settings.mutes, ringing.conv, now))) return null;
  return 'ring';
}

function play(sound: CallSound): AudioContext {
  const context = new AudioContext();
  const gain = context.createGain();
  gain.gain.value = 0;
  gain.connect(context.destination);
  const { tones, bursts, period } = PATTERNS[sound];
  for (const frequency of tones) {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start();
  }
  for (let cycle = 0; cycle * period < SCHEDULED_S; cycle++) {
    for (const [on, off] of bursts) {
      const start = context.currentTime + cycle * period + on;
      const end = context.currentTime + cycle * period + off;
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(VOLUME / tones.length, start + FADE_S);
      gain.gain.setValueAtTime(VOLUME / tones.length, end - FADE_S);
      gain.gain.linearRampToValueAtTime(0, end);
    }
  }
  return context;
}

/**
 * Plays what `callSound` asks for as the store changes, and checks again each second while a sound plays
 * (a group call stops ringing when its time is up, with nothing in the store changing). Returns the stop.
 */
export function startCallSounds(store: { getState(): AppState; subscribe(listener: (state: AppState) => void): () => void }): () => void {
  let playing: { sound: CallSound; context: AudioContext } | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  const update = (): void => {
    const sound = callSound(store.getState(), Date.now());
    if (sound === playing?.sound) return;
    if (playing !== null) void playing.context.close();
    playing = sound === null ? null : { sound, context: play(sound) };
    if (playing !== null && timer === null) timer = setInterval(update, 1000);
    if (playing === null && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
  const unsubscribe = store.subscribe(update);
  update();
  return () => {
    unsubscribe();
    if (timer !== null) clearInterval(timer);
    if (playing !== null) void playing.context.close();
    playing = null;
  };
}
