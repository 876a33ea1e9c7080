/**
 * Test fixture: floods the network with announcements of rooms that do not exist.
 * `node --import tsx flood.ts <count>` announces rooms "Flood 1".."Flood <count>" and prints `flooding`.
 */
import { PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { openBonjour } from '../mdns.js';
import { SERVICE_TYPE, encodeRoomTxt } from '../txt.js';

const count = Number(process.argv[2]);
const bonjour = openBonjour((error) => console.error(`flood: ${error.message}`));
for (let index = 1; index <= count; index++) {
  bonjour.publish({
    name: `Flood ${index}`,
    type: SERVICE_TYPE,
    port: 40_000 + index,
    probe: false,
    disableIPv6: true,
    txt: encodeRoomTxt({ roomName: `Flood ${index}`, protocol: PROTOCOL_VERSION, tls: false, access: 'open', fingerprint: null }),
  });
}
console.log('flooding');
process.once('SIGTERM', () => process.exit(0));
