/**
 * A loopback port free right now, for a server that must come back on the same port (a host
 * restarted, a database or NATS started by a test). Taken below Linux's ephemeral range
 * (32768+): the system hands those to `listen(0)` and to outgoing connections of every test
 * running meanwhile, which could take the port between a stop and the restart.
 */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
