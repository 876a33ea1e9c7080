/**
 * This machine's media for a call: the microphone (with the browser's echo cancellation and noise
 * suppression on), the camera, a shared screen or window, and the devices to pick from.
 */

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';

/** The devices picked in the call's settings; '' is the system default. */
export type DeviceChoice = Record<DeviceKind, string>;

export const DEFAULT_DEVICES: DeviceChoice = { audioinput: '', videoinput: '', audiooutput: '' };

export interface Device {
  id: string;
  label: string;
}

const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const VIDEO: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };

function exact(id: string): Pick<MediaTrackConstraints, 'deviceId'> {
  return id === '' ? {} : { deviceId: { exact: id } };
}

export async function openMicrophone(device: string): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { ...AUDIO, ...exact(device) } });
  return stream.getAudioTracks()[0]!;
}

export async function openCamera(device: string): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, ...exact(device) } });
  return stream.getVideoTracks()[0]!;
}

/** The screen or a window, as the browser's (or Electron's) picker lets the user choose; no audio. */
export async function openScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  const track = stream.getVideoTracks()[0]!;
  // Sharp text over smooth motion: the encoder keeps the resolution and drops frames first.
  track.contentHint = 'detail';
  return track;
}

/** The devices of each kind, named as the system names them (names show once a device was allowed). */
export async function listDevices(): Promise<Record<DeviceKind, Device[]>> {
  const lists: Record<DeviceKind, Device[]> = { audioinput: [], videoinput: [], audiooutput: [] };
  for (const device of await navigator.mediaDevices.enumerateDevices()) {
    if (device.deviceId === '' || device.deviceId === 'default' || device.deviceId === 'communications') continue;
    lists[device.kind].push({ id: device.deviceId, label: device.label });
  }
  return lists;
}

/** Whether this browser lets a page choose where audio plays (Chromium does; some browsers do not). */
export function canPickSpeaker(): boolean {
  return 'setSinkId' in HTMLMediaElement.prototype;
}

/** Plays the element's audio on this output device ('' for the default). */
export async function playOn(element: HTMLMediaElement, device: string): Promise<void> {
  if (!canPickSpeaker()) return;
  await (element as HTMLMediaElement & { setSinkId(id: string): Promise<void> }).setSinkId(device);
}

/** Why media could not be opened, as a key of the call texts (calls.mediaError.*). */
export function mediaErrorKind(error: unknown): 'denied' | 'notFound' | 'busy' | 'other' {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'notFound';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'other';
}
