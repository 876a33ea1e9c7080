/**
 * Test fixture: multicast DNS sent by someone who is not the room, as a hostile machine on the LAN would.
 * `node --import tsx spoof.ts squat <instance> <port>` announces a service under another host's instance
 * name first (no probing) and prints `squatting`; `spoof.ts goodbyes <instance>` sends goodbyes (TTL 0)
 * for that instance every 200 ms and prints `goodbyes` after the first.
 */
import { PROTOCOL_VERSION } from '../../../src-shared/protocol/limits.js';
import { multicastDns, openBonjour } from '../mdns.js';
import { SERVICE_TYPE, encodeRoomTxt } from '../txt.js';

const [mode, instance, port] = process.argv.slice(2);
if (!instance || (mode !== 'squat' && mode !== 'goodbyes')) throw new Error('usage: spoof.ts squat <instance> <port> | goodbyes <instance>');
const bonjour = openBonjour((error) => console.error(`spoof: ${error.message}`));
if (mode === 'squat') {
  bonjour.publish({
    name: instance,
    type: SERVICE_TYPE,
    port: Number(port),
    probe: false,
    disableIPv6: true,
    txt: encodeRoomTxt({ roomName: 'Squatter', protocol: PROTOCOL_VERSION, tls: false, access: 'open', fingerprint: null }),
  });
  console.log('squatting');
} else {
  const mdns = multicastDns(bonjour) as unknown as { respond(packet: { answers: object[] }): void };
  const goodbye = (): void =>
    mdns.respond({ answers: [{ name: `_${SERVICE_TYPE}._tcp.local`, type: 'PTR', ttl: 0, data: `${instance}._${SERVICE_TYPE}._tcp.local` }] });
  goodbye();
  setInterval(goodbye, 200);
  console.log('goodbyes');
}
process.once('SIGTERM', () => process.exit(0));
