/**
 * Where a run's CPU went, from Linux's /proc: per process, the share of a core its main thread (its event
 * loop) used and the share it spent runnable but waiting for one, and how busy the machine's cores were.
 * The checker prints it with each run's rate, so a rate below the load asked for says which process ran
 * short: one using a whole core is bound by it, one waiting long was starved by the others.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

interface Times {
  /** Seconds on a core. */
  used: number;
  /** Seconds runnable but waiting for a core. */
  waited: number;
}

/** The process's main thread (its event loop): Linux's schedstat, nanoseconds on a core and waiting for one. */
function timesOf(pid: number): Times | undefined {
  try {
    const [used, waited] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number) as [number, number];
    return { used: used / 1e9, waited: waited / 1e9 };
  } catch {
    return undefined;
  }
}

/** The machine's busy and total core time, in ticks, from /proc/stat's first line. */
function machine(): { busy: number; total: number } | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy, total: busy + idle! + iowait! };
  } catch {
    return undefined;
  }
}

export interface Usage {
  /** Per named process, its main thread: % of one core used, and % of the time waiting for one. */
  processes: { name: string; used: number; waited: number }[];
  /** The machine's cores busy, in % of one core, out of `cores` × 100. */
  busy: number;
  cores: number;
}

/** Starts measuring these processes (a name and pid each); `end` gives each one's share since, skipping any gone meanwhile (restarted by a fault). */
export function measureUsage(processes: readonly { name: string; pid: number | undefined }[]): { end(): Usage | undefined } {
  const began = performance.now();
  const start = processes.map(({ name, pid }) => ({ name, pid, times: pid !== undefined ? timesOf(pid) : undefined }));
  const startMachine = machine();
  return {
    end() {
      const seconds = (performance.now() - began) / 1000;
      const endMachine = machine();
      if (!startMachine || !endMachine || seconds <= 0) return undefined;
      const cores = cpus().length;
      const share = (s: number): number => Math.round((100 * s) / seconds);
      return {
        processes: start.flatMap(({ name, pid, times }) => {
          const now = pid !== undefined && times ? timesOf(pid) : undefined;
          return now && times ? [{ name, used: share(now.used - times.used), waited: share(now.waited - times.waited) }] : [];
        }),
        busy: Math.round((100 * cores * (endMachine.busy - startMachine.busy)) / (endMachine.total - startMachine.total)),
        cores,
      };
    },
  };
}

export function describeUsage(usage: Usage): string {
  const processes = usage.processes.map(({ name, used, waited }) => `${name} ${used} (${waited})`).join(', ');
  return `CPU over the workload, each process's main thread, % of a core used (waiting for one): ${processes}; the machine's ${usage.cores} cores ${usage.busy} of ${usage.cores * 100} busy`;
}
