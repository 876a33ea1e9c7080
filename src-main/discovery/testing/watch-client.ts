/**
 * Test fixture: an app core on a test machine that watches for rooms, as the Join screen does.
 * `node --import tsx watch-client.ts <profile dir>` prints `rooms <json>` with the list at start
 * and after every change; each input line `join <JoinRequest json>` joins and prints `joined <Result json>`.
 */
import { createInterface } from 'node:readline';
import { AppCore } from '../../core/app.js';

const profileDir = process.argv[2];
if (!profileDir) throw new Error('usage: watch-client.ts <profile dir>');
// Re-queries every second instead of every 10: a room that vanished without a goodbye ages out in seconds.
const core = new AppCore({ profileDir, roomWatchTiming: { requeryMs: 1000, forgetAfterMs: 2500, overlapMs: 300 } });
core.onEvent((event) => {
  if (event.type === 'nearbyRooms') console.log(`rooms ${JSON.stringify(event.rooms)}`);
});
const first = await core.nearbyRooms();
console.log(first.ok ? `rooms ${JSON.stringify(first.value)}` : `failed ${JSON.stringify(first.error)}`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...rest] = line.split(' ');
  if (command !== 'join') return;
  void core.join(JSON.parse(rest.join(' '))).then(async (result) => {
    console.log(`joined ${JSON.stringify(result)}`);
    if (result.ok) await core.leave();
  });
});
process.once('SIGTERM', () => void core.shutdown().then(() => process.exit(0)));
