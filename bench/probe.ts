/**
 * Bench-only instruments inside a server process (the host or the baseline), answered over the
 * IPC channel the bench opens: the event-loop delay since the last reset, the process's memory
 * split (V8 heap, Buffers), a CPU profile of exactly the measured window (with the turns of the loop
 * longer than 15 ms in it, for bench/long-turns.ts), and a heap snapshot.
 * Nothing of it runs in the product: only bench/host.ts and bench/baseline-server.ts import it.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

export type ProbeRequest =
  /** Starts a measurement; with `profileFile`, a CPU profile that read() writes there. */
  | { probe: 'reset'; profileFile?: string }
  | { probe: 'read' }
  /** The loop's longest delay since the last phase mark (or reset), then a new phase: which part of a workload held it. */
  | { probe: 'phase' }
  | { probe: 'heap'; file: string };

export interface PhaseReading {
  loopP99Ms: number;
  loopMaxMs: number;
}

export interface ProbeReading {
  /** Event-loop delay since the last reset (a 1 ms timer's lateness plus its 1 ms interval). */
  loopP99Ms: number;
  loopMaxMs: number;
  heapUsedMb: number;
  /** What V8 holds for its heap, used or not: garbage of a burst keeps it grown. */
  heapTotalMb: number;
  /** ArrayBuffers and Buffers outside the V8 heap (socket and frame buffers). */
  externalMb: number;
  /** The CPU profile of the window since the reset, when one was asked for. */
  profileFile?: string;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
/** Nanoseconds of the delay histogram to milliseconds, two decimals. */
const ms = (nanoseconds: number): number => Math.round(nanoseconds / 1e4) / 100;

/** Starts measuring and answers the bench's requests; a no-op without an IPC channel. */
export function installProbe(): void {
  if (!process.send) return;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const phase = monitorEventLoopDelay({ resolution: 1 });
  phase.enable();
  let profiling: { session: Session; file: string; turns: LongTurns } | null = null;
  const answer = (message: object): void => {
    process.send!(message);
  };
  process.on('message', async (request: ProbeRequest) => {
    if (request.probe === 'reset') {
      if (request.profileFile) {
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        profiling = { session, file: request.profileFile, turns: new LongTurns() };
      }
      delay.reset();
      phase.reset();
      answer({ probe: 'reset' });
    } else if (request.probe === 'phase') {
      const reading: PhaseReading = { loopP99Ms: ms(phase.percentile(99)), loopMaxMs: ms(phase.max) };
      phase.reset();
      answer({ probe: 'phase', reading });
    } else if (request.probe === 'read') {
      const memory = process.memoryUsage();
      const reading: ProbeReading = {
        loopP99Ms: ms(delay.percentile(99)),
        loopMaxMs: ms(delay.max),
        heapUsedMb: mb(memory.heapUsed),
        heapTotalMb: mb(memory.heapTotal),
        externalMb: mb(memory.external),
      };
      if (profiling) {
        const { profile } = await profiling.session.post('Profiler.stop');
        writeFileSync(profiling.file, JSON.stringify(profile));
        writeFileSync(turnsFileOf(profiling.file), JSON.stringify(profiling.turns.stop()));
        profiling.session.disconnect();
        reading.profileFile = profiling.file;
        profiling = null;
      }
      answer({ probe: 'read', reading });
    } else {
      answer({ probe: 'heap', file: writeHeapSnapshot(request.file) });
    }
  });
}

/** Where a profile's long turns are written: beside it, for bench/long-turns.ts. */
export const turnsFileOf = (profileFile: string): string => profileFile.replace(/\.cpuprofile$/, '.turns.json');

/** Turns of the loop longer than this are recorded while profiling. */
const LONG_TURN_MS = 15;

/**
 * The turns of the loop longer than LONG_TURN_MS while a profile is taken: a 1 ms timer runs once a
 * turn, so a gap between two of its runs is a turn (or the process waiting for a core). Each as
 * [start, end] in microseconds of the monotonic clock, the clock of the profile's samples.
 */
class LongTurns {
  private readonly turns: [number, number][] = [];
  private last = process.hrtime.bigint();
  private readonly timer = setInterval(() => {
    const now = process.hrtime.bigint();
    if (Number(now - this.last) / 1e6 > LONG_TURN_MS) this.turns.push([Number(this.last / 1000n), Number(now / 1000n)]);
    this.last = now;
  }, 1);

  stop(): [number, number][] {
    clearInterval(this.timer);
    return this.turns;
  }
}
