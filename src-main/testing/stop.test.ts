import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, test } from 'vitest';
import { exited, stopChild } from './stop.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (!exited(child)) child.kill('SIGKILL');
});

/** A node process that prints "ready" once its SIGTERM handler (if any) is in place. */
async function start(script: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `${script}; setInterval(() => {}, 1000); console.log('ready')`], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  await once(child.stdout!, 'data');
  return child;
}

test('a process that ends on SIGTERM is stopped by it', async () => {
  const child = await start('');
  await stopChild(child);
  expect(child.signalCode).toBe('SIGTERM');
});

test('a process that ignores SIGTERM is killed after the grace period instead of being waited for', async () => {
  const child = await start("process.on('SIGTERM', () => {})");
  await stopChild(child, { graceMs: 300 });
  expect(child.signalCode).toBe('SIGKILL');
});

test('a process a signal already ended counts as stopped', async () => {
  const child = await start('');
  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(child.exitCode).toBeNull();
  await stopChild(child);
  expect(exited(child)).toBe(true);
});
