import { useEffect, useRef } from 'react';
import { useApp } from '../app-context.js';
import { playOn } from '../calls/media.js';

/** A stream's picture; its sound plays in CallAudio (so a tile that shows an avatar is still heard). */
export function CallVideo({ stream, mirrored = false }: { stream: MediaStream; mirrored?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current !== null && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  return <video ref={ref} className={mirrored ? 'mirrored' : undefined} autoPlay playsInline muted />;
}

function PeerAudio({ stream, speaker }: { stream: MediaStream; speaker: string }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    if (ref.current !== null && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  useEffect(() => {
    if (ref.current !== null) void playOn(ref.current, speaker).catch(() => undefined);
  }, [speaker]);
  return <audio ref={ref} autoPlay />;
}

/**
 * Everyone's sound in the call, on the speaker picked in the call's settings. Kept in the main window,
 * not in the conversation, so opening another conversation does not interrupt it.
 */
export function CallAudio() {
  const peers = useApp((state) => state.inCall?.peers);
  const speaker = useApp((state) => state.inCall?.devices.audiooutput ?? '');
  if (peers === undefined) return null;
  return (
    <div hidden>
      {peers.map((peer) => (
        <PeerAudio key={peer.endpoint} stream={peer.stream} speaker={speaker} />
      ))}
    </div>
  );
}
