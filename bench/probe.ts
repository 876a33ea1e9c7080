/**
 * Bench-only instruments inside a server process (the host or the baseline), answered over the
 * IPC channel the bench opens: the event-loop delay since the last reset, the process's memory
 * split (V8 heap, Buffers, the rest native), and a heap snapshot on request.
 * Nothing of it runs in the product: only bench/host.ts and bench/baseline-server.ts import it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

export type ProbeRequest = { probe: 'reset' } | { probe: 'read' } | { probe: 'heap'; file: string };

export interface ProbeReading {
  /** Event-loop delay since the last reset (a 1 ms timer's lateness plus its 1 ms interval). */
  loopP99Ms: number;
  loopMaxMs: number;
  heapUsedMb: number;
  /** ArrayBuffers and Buffers outside the V8 heap (socket and frame buffers). */
  externalMb: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Starts measuring and answers the bench's requests; a no-op without an IPC channel. */
export function installProbe(): void {
  if (!process.send) return;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('message', (request: ProbeRequest) => {
    if (request.probe === 'reset') {
      delay.reset();
      process.send!({ probe: 'reset' });
    } else if (request.probe === 'read') {
      const memory = process.memoryUsage();
      const reading: ProbeReading = {
        loopP99Ms: Math.round(delay.percentile(99) / 1e4) / 100,
        loopMaxMs: Math.round(delay.max / 1e4) / 100,
        heapUsedMb: mb(memory.heapUsed),
        externalMb: mb(memory.external),
      };
      process.send!({ probe: 'read', reading });
    } else {
      process.send!({ probe: 'heap', file: writeHeapSnapshot(request.file) });
    }
  });
}
