/**
 * A child process's output gathered line by line (stdout and stderr together) and its exit.
 * Free of vitest: the Playwright specs use it too.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export class ChildLines {
  readonly lines: string[] = [];
  /** The exit code once it exited (-1 when a signal ended it), else null. */
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  private partial = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    const take = (chunk: Buffer): void => {
      this.partial += chunk.toString('utf8');
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code, signal) => {
      this.exitCode = code ?? -1;
      this.signal = signal;
    });
  }
}
