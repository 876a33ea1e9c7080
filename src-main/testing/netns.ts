/**
 * A throwaway LAN for tests of what loopback cannot carry (multicast, media between two machines):
 * network namespaces (one per machine) joined by a bridge in a hub namespace, or two joined by one
 * veth pair, addresses 10.77.0.x that exist only inside them. Needs root and iproute2;
 * `lanUnavailable()` says why not.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ChildLines } from './child-lines.js';
import { waitFor } from './harness.js';
import { scriptArgs } from './scripts.js';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Why namespaces cannot be made here, or null when they can (tried with one that is removed at once). */
export function lanUnavailable(): string | null {
  const probe = `lcprobe${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot create network namespaces (needs root and iproute2): ${stderr || (error as Error).message}`;
  }
}

export interface TestLan {
  /** One namespace per machine, in order; machine i has address 10.77.0.(i+1). */
  machines: string[];
  address(machine: number): string;
  /** Runs the script (scripts.ts) with node on a machine, with discovery on. */
  run(machine: number, script: string, args: string[], env?: Record<string, string>): LanProcess;
  /** The machine's link goes down (its cable pulled: no carrier on either end) or comes back up. */
  setLink(machine: number, up: boolean): void;
  /** Stops every process still running and removes the namespaces. */
  remove(): Promise<void>;
}

/**
 * `machineCount` machines on a bridge; with `cable`, exactly two joined by one veth pair (a crossover
 * cable: nothing between them, not even the hub namespace).
 */
export function createLan(machineCount: number, { cable = false }: { cable?: boolean } = {}): TestLan {
  if (cable && machineCount !== 2) throw new Error('a cable joins exactly two machines');
  const prefix = `lc${randomBytes(3).toString('hex')}`;
  const hub = `${prefix}hub`;
  const machines = Array.from({ length: machineCount }, (_, index) => `${prefix}m${index}`);
  const created: string[] = [];
  const processes: LanProcess[] = [];
  const remove = async (): Promise<void> => {
    await Promise.all(processes.map((process) => process.stop()));
    for (const name of created.splice(0)) {
      try {
        ip('netns', 'del', name);
      } catch {
        // Already gone: nothing else to clean up.
      }
    }
  };
  const address = (machine: number): string => `10.77.0.${machine + 1}`;
  const configure = (machine: string, index: number): void => {
    ip('-n', machine, 'addr', 'add', `${address(index)}/24`, 'dev', 'lan0');
    ip('-n', machine, 'link', 'set', 'lan0', 'up');
    // No default route in here: multicast needs its own.
    ip('-n', machine, 'route', 'add', '224.0.0.0/4', 'dev', 'lan0');
  };
  const lan: TestLan = {
    machines,
    address,
    run: (machine, script, args, env = {}) => {
      const { LANCHAT_DISCOVERY: _off, ...inherited } = process.env;
      const child = spawn('ip', ['netns', 'exec', machines[machine]!, process.execPath, ...scriptArgs(script), ...args], {
        cwd: process.cwd(),
        env: { ...inherited, TZ: 'UTC', ...env },
      });
      const started = new LanProcess(child);
      processes.push(started);
      return started;
    },
    setLink: (machine, up) => ip('-n', machines[machine]!, 'link', 'set', 'lan0', up ? 'up' : 'down'),
    remove,
  };
  try {
    if (cable) {
      for (const machine of machines) {
        ip('netns', 'add', machine);
        created.push(machine);
        ip('-n', machine, 'link', 'set', 'lo', 'up');
      }
      ip('-n', machines[0]!, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', machines[1]!);
      machines.forEach(configure);
      return lan;
    }
    ip('netns', 'add', hub);
    created.push(hub);
    // No IGMP querier on this bridge: without snooping it floods multicast to every port, like a plain switch.
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
    machines.forEach((machine, index) => {
      ip('netns', 'add', machine);
      created.push(machine);
      ip('-n', machine, 'link', 'set', 'lo', 'up');
      ip('-n', hub, 'link', 'add', `port${index}`, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', machine);
      ip('-n', hub, 'link', 'set', `port${index}`, 'master', 'br0', 'up');
      configure(machine, index);
    });
  } catch (error) {
    void remove();
    throw error;
  }
  return lan;
}

/** A process on a test machine, its output gathered line by line. */
export class LanProcess extends ChildLines {
  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first line matching `pattern` at or after line `from`. */
  async waitLine(pattern: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(
      () => this.lines.slice(options.from ?? 0).some((line) => (match = pattern.exec(line)) !== null),
      options.timeoutMs ?? 20_000,
      `a line matching ${pattern} in:\n${this.lines.join('\n')}`,
    );
    return match!;
  }

  async waitExit(timeoutMs = 20_000): Promise<number> {
    await waitFor(() => this.exitCode !== null, timeoutMs, () => `the process to exit; it printed:\n${this.lines.join('\n')}`);
    return this.exitCode!;
  }

  /** SIGTERM, then SIGKILL if it is still there after a while. */
  async stop(): Promise<void> {
    if (this.exitCode !== null) return;
    this.child.kill('SIGTERM');
    try {
      await this.waitExit(10_000);
    } catch {
      this.child.kill('SIGKILL');
      await this.waitExit(5_000).catch(() => undefined);
    }
  }
}
