/**
 * Test fixture: a LanChat host of its own (its own certificate) that announces itself with
 * another room's name and fingerprint, as an impostor on the network would.
 * `node --import tsx impostor.ts <data dir> <room name> <claimed fingerprint>` prints `impostor <port>`.
 */
import { PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { startHost } from '../../core/host.js';
import { announceRoom } from '../announce.js';

const [dataDir, roomName, fingerprint] = process.argv.slice(2);
if (!dataDir || !roomName || !fingerprint) throw new Error('usage: impostor.ts <data dir> <room name> <claimed fingerprint>');
const host = await startHost({ dataDir, port: 0, roomName });
await host.server.ready;
const announcement = await announceRoom(
  { roomName, protocol: PROTOCOL_VERSION, tls: true, access: 'open', fingerprint, port: host.address.port },
  (error) => console.error(`announce failed: ${error.message}`),
);
if ('off' in announcement) throw new Error(announcement.off);
console.log(`impostor ${host.address.port}`);
process.once('SIGTERM', () => void Promise.all([announcement.stop(), host.stop()]).then(() => process.exit(0)));
