/**
 * Debian's nats-server for tests: on a free loopback port, its config in the test's folder;
 * `stop` (SIGKILL) and `start` again on the same port. `natsMissing` says why tests cannot run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';

const NATS_SERVER = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
const START_TIMEOUT_MS = 10_000;

/** Why NATS tests cannot run here, or undefined when they can. */
export const natsMissing: string | undefined = NATS_SERVER ? undefined : 'nats-server is not installed (.ci/run installs the Debian package nats-server)';

export class NatsServer {
  private child: ChildProcess | null = null;

  /** `maxPayload`: the largest message the server takes (bytes). */
  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly maxPayload = 1024 * 1024,
  ) {}

  /** Starts one on a free port, its files in `dir`. */
  static async start(dir: string, maxPayload?: number): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), dir, maxPayload);
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (natsMissing) throw new Error(natsMissing);
    const config = join(this.dir, 'nats.conf');
    writeFileSync(config, `max_payload: ${this.maxPayload}\n`);
    const child = spawn(NATS_SERVER, ['-c', config, '-a', '127.0.0.1', '-p', String(this.port)], { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // If the test process ends without afterAll (a crash), the server goes with it.
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${output}`)), START_TIMEOUT_MS);
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}): ${output}`));
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
