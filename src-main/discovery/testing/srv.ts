/**
 * Test fixture: reads the SRV records of the rooms announced on the network as they come, which
 * the app's own browsing shows only with `.local` taken off.
 * `node --import tsx srv.ts` prints `srv <instance> <target> <port>` for each room found.
 */
import { openBonjour } from '../mdns.js';
import { SERVICE_TYPE } from '../txt.js';

const bonjour = openBonjour((error) => console.error(`srv: ${error.message}`));
// bonjour-service's Browser copies the SRV record's target into `host` unchanged.
bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' }, (service) => console.log(`srv ${service.name} ${service.host} ${service.port}`));
process.once('SIGTERM', () => process.exit(0));
