/**
 * Debian's nats-server for tests: on a free loopback port, its config in the test's folder;
 * `stop` (SIGKILL) and `start` again on the same port. `natsMissing` says why tests cannot run.
 * A secured one (`NatsServer.startSecured`) is set up as docs/DEPLOYMENT.md tells an operator to:
 * a certificate authority and the server's certificate made with openssl, TLS required, and one
 * user with a password allowed the room subjects only.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusSecurity } from '../server/bus-nats.js';
import { freePort } from './ports.js';

const NATS_SERVER = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
const START_TIMEOUT_MS = 10_000;

/** Why NATS tests cannot run here, or undefined when they can. */
export const natsMissing: string | undefined = NATS_SERVER ? undefined : 'nats-server is not installed (.ci/run installs the Debian package nats-server)';

/**
 * The certificate authority and the NATS server's key and certificate, made in `dir` with the openssl
 * commands of docs/DEPLOYMENT.md ("Securing the bus"), for the name localhost: a NATS client checks the
 * certificate against the name in the server's URL (an address is checked as "localhost").
 */
export function makeNatsCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '3650', '-subj', '/CN=LanChat bus CA', '-keyout', 'bus-ca-key.pem', '-out', 'bus-ca.pem');
  openssl('req', ...ec, '-subj', '/CN=nats', '-keyout', 'nats-key.pem', '-out', 'nats.csr');
  writeFileSync(file('nats.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'nats.csr', '-CA', 'bus-ca.pem', '-CAkey', 'bus-ca-key.pem', '-CAcreateserial', '-days', '825', '-extfile', 'nats.ext', '-out', 'nats-cert.pem');
  return { caFile: file('bus-ca.pem'), certFile: file('nats-cert.pem'), keyFile: file('nats-key.pem') };
}

export class NatsServer {
  private child: ChildProcess | null = null;
  /** What a node needs to reach a secured server (undefined: an open one). */
  readonly security: BusSecurity | undefined;
  private readonly secured: { certFile: string; keyFile: string; password: boolean } | undefined;

  /** `maxPayload`: the largest message the server takes (bytes); `secured`: TLS only, and a user with a password unless 'tls only'. */
  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly maxPayload = 1024 * 1024,
    secured?: 'tls and password' | 'tls only',
  ) {
    if (!secured) return;
    const { caFile, certFile, keyFile } = makeNatsCertificates(dir);
    this.secured = { certFile, keyFile, password: secured === 'tls and password' };
    this.security = { caFile, user: 'lanchat', password: randomBytes(18).toString('base64url') };
  }

  /** Starts one on a free port, its files in `dir`. */
  static async start(dir: string, maxPayload?: number): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), dir, maxPayload);
    await server.start();
    return server;
  }

  /** Starts one that takes only TLS connections of its user, with its password (`security`); with 'tls only', anyone's. */
  static async startSecured(dir: string, secured: 'tls and password' | 'tls only' = 'tls and password'): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), dir, undefined, secured);
    await server.start();
    return server;
  }

  /** The host's flags for this server (docs/DEPLOYMENT.md), the password in LANCHAT_NATS_PASSWORD. */
  get hostFlags(): { args: string[]; env: Record<string, string> } {
    if (!this.security) return { args: ['--nats', this.url, '--insecure-bus'], env: {} };
    const { caFile, user, password } = this.security;
    return { args: ['--nats', this.url, '--nats-ca', caFile!, '--nats-user', user!], env: { LANCHAT_NATS_PASSWORD: password! } };
  }

  /** A secured server by its name, which its certificate names; an open one by its address. */
  get url(): string {
    return `nats://${this.secured ? 'localhost' : '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<void> {
    if (natsMissing) throw new Error(natsMissing);
    const config = join(this.dir, 'nats.conf');
    writeFileSync(config, `max_payload: ${this.maxPayload}\n${this.secured && this.security ? securedConfig(this.secured, this.security) : ''}`);
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

/** The parts of nats-server.conf that docs/DEPLOYMENT.md gives: TLS required, one user allowed the room subjects only. */
function securedConfig(files: { certFile: string; keyFile: string; password: boolean }, security: BusSecurity): string {
  return [
    `tls { cert_file: "${files.certFile}", key_file: "${files.keyFile}" }`,
    ...(files.password
      ? [`authorization { users: [ { user: "${security.user}", password: "${security.password}", permissions: { publish: "lanchat.>", subscribe: "lanchat.>" } } ] }`]
      : []),
    '',
  ].join('\n');
}
