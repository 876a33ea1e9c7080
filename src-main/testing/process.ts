/**
 * A CLI run as a real child process (src-main/cli/<script>.ts, see scripts.ts), its
 * output gathered line by line, and killed after the test if still running.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { onTestFinished } from 'vitest';
import { ChildLines } from './child-lines.js';
import { waitFor } from './harness.js';
import { SCRIPTS, scriptArgs } from './scripts.js';

export class CliProcess extends ChildLines {
  private constructor(child: ChildProcessWithoutNullStreams) {
    super(child);
  }

  /** Starts src-main/cli/<script>.ts inside a test; killed when the test ends if it is still running. */
  static run(script: 'host' | 'chat', args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
    const child = spawn(process.execPath, [...scriptArgs(SCRIPTS[script]), ...args], {
      cwd: process.cwd(),
      env: { ...process.env, TZ: 'UTC', ...env },
    });
    const cli = new CliProcess(child);
    // Per test, not a module-level afterEach: with isolate off a module is evaluated once per worker, not per file.
    onTestFinished(() => {
      if (cli.exitCode === null) child.kill('SIGKILL');
    });
    return cli;
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  get output(): string {
    return this.lines.join('\n');
  }

  async waitLine(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(
      () => this.lines.some((line) => (match = pattern.exec(line)) !== null) || this.exitCode !== null,
      timeoutMs,
      `a line matching ${pattern} in:\n${this.output}`,
    );
    if (!match) throw new Error(`exited with ${this.exitCode} before a line matching ${pattern}:\n${this.output}`);
    return match;
  }

  async waitExit(timeoutMs = 20_000): Promise<number> {
    await waitFor(() => this.exitCode !== null, timeoutMs, 'the process to exit');
    return this.exitCode!;
  }

  /** The port of a host process once it prints `listening <address>:<port>`. */
  async port(): Promise<number> {
    return Number((await this.waitLine(/^listening \S+:(\d+)$/))[1]);
  }
}
