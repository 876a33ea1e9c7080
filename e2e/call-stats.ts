/**
 * What a page's peer connections received, for the calls e2e tests and bench row. The app keeps its
 * peer connections to itself; these see them through an init script that records every
 * RTCPeerConnection the page makes (test-only: the app has no hook for it).
 */
import type { Page } from '@playwright/test';

/**
 * Runs in the page before the app: keeps each RTCPeerConnection made, in `window.peerConnections`, and
 * each AudioContext (the ring's sounds, calls/ring-sound.ts), in `window.audioContexts`.
 */
export function recordCallMedia(): void {
  const Native = window.RTCPeerConnection;
  const made: RTCPeerConnection[] = [];
  (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections = made;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      made.push(this);
    }
  } as typeof RTCPeerConnection;
  const NativeAudio = window.AudioContext;
  const contexts: AudioContext[] = [];
  (window as unknown as { audioContexts: AudioContext[] }).audioContexts = contexts;
  window.AudioContext = class extends NativeAudio {
    constructor(options?: AudioContextOptions) {
      super(options);
      contexts.push(this);
    }
  } as typeof AudioContext;
}

/** The state of each sound the page has open ('running' when it plays; a closed one is gone). */
export function sounds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (window as unknown as { audioContexts: AudioContext[] }).audioContexts.map((context) => context.state as string).filter((state) => state !== 'closed'),
  );
}

export interface Received {
  /** Audio samples decoded from the other side. */
  audio: number;
  /** Video frames decoded from the other side, and the width of the last. */
  video: number;
  width: number;
}

/** What each open peer connection of the page has received so far. */
export function received(page: Page): Promise<Received[]> {
  return page.evaluate(async () => {
    const connections = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
    const open = connections.filter((pc) => pc.connectionState !== 'closed');
    return Promise.all(
      open.map(async (pc) => {
        const seen = { audio: 0, video: 0, width: 0 };
        (await pc.getStats()).forEach((entry: { type: string; kind?: string; totalSamplesReceived?: number; framesDecoded?: number; frameWidth?: number }) => {
          if (entry.type !== 'inbound-rtp') return;
          if (entry.kind === 'audio') seen.audio += entry.totalSamplesReceived ?? 0;
          if (entry.kind === 'video') {
            seen.video += entry.framesDecoded ?? 0;
            seen.width = entry.frameWidth ?? seen.width;
          }
        });
        return seen;
      }),
    );
  });
}


/** The label of the video track each open peer connection of the page sends ('' for none): the camera's, or the shared screen's. */
/** RTP packets of audio received on the page's open connections, in all. */
export function audioPackets(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const connections = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
    let packets = 0;
    for (const pc of connections.filter((each) => each.connectionState !== 'closed')) {
      (await pc.getStats()).forEach((entry: { type: string; kind?: string; packetsReceived?: number }) => {
        if (entry.type === 'inbound-rtp' && entry.kind === 'audio') packets += entry.packetsReceived ?? 0;
      });
    }
    return packets;
  });
}

export function sentVideo(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const connections = (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections;
    return connections
      .filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => pc.getSenders().find((sender) => sender.track?.kind === 'video')?.track?.label ?? '');
  });
}
