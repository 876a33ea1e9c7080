/**
 * How long a refused login takes: a wrong password (a full scrypt check at the
 * default cost) against a login refused by the throttle (no scrypt at all).
 * Prints JSON. Run: npx tsx bench/login-throttle.ts
 */
import { ErrorCode } from '../src-shared/protocol/errors.js';
import { startHost } from '../src-main/core/host.js';
import { RawPeer, removeDir, tempDir } from '../src-main/testing/harness.js';

const PASSWORD_ROUNDS = 20;
const THROTTLED_ROUNDS = 500;

/**
 * Sends `rounds` logins back to back (the server answers a connection's requests
 * in order) and returns the mean time per answer, so the harness's polling
 * granularity is paid once, not per login.
 */
async function meanLoginMs(peer: RawPeer, name: string, rounds: number, expected: string): Promise<number> {
  const firstId = 1000 + peer.frames.length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) peer.send({ type: 'login', id: firstId + i, name, password: 'wrong guess' });
  const last = await peer.waitFrame((frame) => frame.type === 'res' && frame.id === firstId + rounds - 1, 120_000);
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (last.type !== 'res' || last.ok || last.error.code !== expected) throw new Error(`unexpected ${JSON.stringify(last)}`);
  return elapsedMs / rounds;
}

async function main(): Promise<void> {
  const dir = tempDir('lanchat-bench-');
  // As many free failures as password rounds, so the first series is all real password checks.
  const host = await startHost({
    dataDir: dir,
    port: 0,
    bind: '127.0.0.1',
    throttle: { freeFailures: PASSWORD_ROUNDS, baseDelayMs: 600_000 },
  });
  try {
    const setup = await RawPeer.open(host.address.port);
    await setup.login('alice', 'right password');
    setup.destroy();
    const peer = await RawPeer.open(host.address.port);
    await peer.hello();
    const wrongPasswordMs = await meanLoginMs(peer, 'alice', PASSWORD_ROUNDS, ErrorCode.WRONG_PASSWORD);
    const throttledMs = await meanLoginMs(peer, 'alice', THROTTLED_ROUNDS, ErrorCode.TOO_MANY_ATTEMPTS);
    peer.destroy();
    console.log(
      JSON.stringify({
        wrongPasswordRounds: PASSWORD_ROUNDS,
        wrongPasswordMeanMs: Number(wrongPasswordMs.toFixed(3)),
        throttledRounds: THROTTLED_ROUNDS,
        throttledMeanMs: Number(throttledMs.toFixed(3)),
      }),
    );
  } finally {
    await host.stop();
    removeDir(dir);
  }
}

void main();
