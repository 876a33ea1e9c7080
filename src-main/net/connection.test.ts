import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { type TLSSocket, connect as connectTls } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type WireError, ErrorCode } from '../../src-shared/protocol/errors.js';
import { removeDir, tempDir, waitFor } from '../testing/harness.js';
import { Connection, WRITE_HIGH_WATER_BYTES, WRITE_PIECE_BYTES } from './connection.js';
import { ConnectionScheduler, LAZY_BYTES_PER_TURN, WRITE_FREE_CONNECTIONS } from './scheduler.js';
import { type DecodedFrame, FrameDecoder, encodeFrame } from './frame.js';
import { TlsGate, loadOrCreateIdentity } from './tls.js';
import { TURN_BUDGET_MS, turnBegins } from './turn.js';

const options = { maxFrameBytes: 1024 * 1024, maxQueuedBytes: 8 * 1024 * 1024 };
/** Holds the thread, as a handler's or a write's work would. */
const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
let server: Server | null = null;
const sockets: Socket[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const dir of dirs.splice(0)) removeDir(dir);
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** Connections on the server side of `count` loopback sockets, and what each client side has decoded. */
async function pairs(
  count: number,
  maxFrameBytes = options.maxFrameBytes,
  sharedTurn = false,
  lazyFlushMs?: number,
): Promise<{ connections: Connection[]; received: unknown[][]; scheduler: ConnectionScheduler }> {
  const accepted: Socket[] = [];
  server = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const received: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ port, host: '127.0.0.1' });
    const frames: unknown[] = [];
    const decoder = new FrameDecoder(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) if (frame.kind === 'frame') frames.push(frame.value);
    });
    sockets.push(socket);
    received.push(frames);
  }
  await waitFor(() => accepted.length === count, 'every connection accepted');
  sockets.push(...accepted);
  const scheduler = new ConnectionScheduler({ sharedTurn, lazyFlushMs });
  return { connections: accepted.map((socket) => new Connection(socket, { ...options, maxFrameBytes, scheduler })), received, scheduler };
}

/** A connection on the server side of one TLS socket admitted by the host's gate, and what its client has decoded. */
async function tlsPair(): Promise<{ connection: Connection; received: unknown[] }> {
  const dir = tempDir();
  dirs.push(dir);
  let secured: TLSSocket | null = null;
  const gate = new TlsGate({
    identity: await loadOrCreateIdentity(dir),
    handshakeTimeoutMs: 10_000,
    onSecure: (socket) => (secured = socket),
    onRejected: () => undefined,
  });
  server = createServer((socket) => gate.admit(socket));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const client = connectTls({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
  const received: unknown[] = [];
  const decoder = new FrameDecoder(options.maxFrameBytes);
  client.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) if (frame.kind === 'frame') received.push(frame.value);
  });
  sockets.push(client);
  await waitFor(() => secured !== null, 'the handshake');
  sockets.push(secured!);
  return { connection: new Connection(secured!, { ...options, scheduler: new ConnectionScheduler() }), received };
}

/** Runs `before` with each chunk the connection hands its socket, as the socket gets it. */
function beforeEachWrite(connection: Connection, before: (chunk: Buffer) => void): void {
  const write = connection.socket.write.bind(connection.socket) as (chunk: Buffer, ...rest: unknown[]) => boolean;
  connection.socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
    before(chunk);
    return write(chunk, ...rest);
  }) as typeof connection.socket.write;
}

/** How many sockets each turn wrote to: a turn's writes run back to back, its microtasks after them. */
function writesPerTurn(connections: Connection[]): { perTurn: number[]; writes: () => number } {
  const perTurn: number[] = [];
  let inTurn = 0;
  let writes = 0;
  for (const connection of connections) {
    beforeEachWrite(connection, () => {
      writes += 1;
      if (inTurn++ === 0) queueMicrotask(() => perTurn.push(inTurn) && (inTurn = 0));
    });
  }
  return { perTurn, writes: () => writes };
}

describe('Connection writes over TLS', () => {
  it('hands the socket less than a TLS record at a time, in a burst too, and the peer gets every frame in order', async () => {
    const { connection, received } = await tlsPair();
    const text = 'x'.repeat(3000);
    let mostHanded = 0;
    const measure = (): void => {
      mostHanded = Math.max(mostHanded, connection.socket.writableLength);
    };
    const allReceived = async (count: number): Promise<void> => {
      while (received.length < count) {
        await new Promise((resolve) => setImmediate(resolve));
        measure();
      }
    };
    // Frames of two turns, under the burst size together.
    for (let n = 0; n < 10; n++) connection.send({ n, text });
    connection.flush();
    measure();
    for (let n = 10; n < 20; n++) connection.send({ n, text });
    connection.flush();
    measure();
    await allReceived(20);
    expect(mostHanded).toBeGreaterThan(0);
    expect(mostHanded).toBeLessThanOrEqual(WRITE_PIECE_BYTES);
    // A burst, one frame of it alone larger than four pieces.
    connection.send({ n: 20, text: 'y'.repeat(100_000) });
    for (let n = 21; n < 60; n++) connection.send({ n, text });
    connection.flush();
    measure();
    await allReceived(60);
    expect(mostHanded).toBeLessThanOrEqual(WRITE_PIECE_BYTES);
    expect(received.map((frame) => (frame as { n: number }).n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    expect((received[20] as { text: string }).text).toHaveLength(100_000);
  });

  it('writes what is still waiting, then the bye, when it closes', async () => {
    const { connection, received } = await tlsPair();
    for (let n = 0; n < 30; n++) connection.send({ n, text: 'x'.repeat(3000) });
    connection.flush();
    connection.close({ code: ErrorCode.SERVER_DRAINING, message: 'elsewhere' });
    await waitFor(() => received.length === 31, 'thirty frames and the bye');
    expect(received.slice(0, 30).map((frame) => (frame as { n: number }).n)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(received[30]).toEqual({ type: 'bye', error: { code: ErrorCode.SERVER_DRAINING, message: 'elsewhere' } });
  });
});

describe('Connection writes', () => {
  it("writes each scheduler's connections apart: flushing one server's writes leaves another's for their own turn", async () => {
    const { connections, received, scheduler } = await pairs(2);
    const [mine, theirs] = connections as [Connection, Connection];
    // The second connection as another server in the same process would hold it: a scheduler of its own.
    const other = new Connection(theirs.socket, { ...options, scheduler: new ConnectionScheduler() });
    mine.send({ n: 1 });
    other.send({ n: 2 });
    scheduler.flushPending();
    expect(other.queuedBytes).toBeGreaterThan(0);
    await waitFor(() => received[0]!.length === 1 && received[1]!.length === 1, 'both frames, each in its own turn');
    expect(received).toEqual([[{ n: 1 }], [{ n: 2 }]]);
  });

  it('keeps frame order when lazy frames are taken along by an ordinary one', async () => {
    const { connections, received } = await pairs(1);
    const connection = connections[0]!;
    connection.sendEncoded(encodeFrame({ n: 1 }), 'lazy');
    connection.sendEncoded(encodeFrame({ n: 2 }), 'lazy');
    connection.send({ n: 3 });
    connection.sendEncoded(encodeFrame({ n: 4 }), 'lazy');
    connection.send({ n: 5 });
    await waitFor(() => received[0]!.length === 5, 'five frames');
    expect(received[0]).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
  });

  it('delivers lazy frames on their own, the same frames to many peers, each once', async () => {
    const { connections, received } = await pairs(3);
    const shared = [encodeFrame({ presence: 'a' }), encodeFrame({ presence: 'b' })];
    for (const frame of shared) for (const connection of connections) connection.sendEncoded(frame, 'lazy');
    connections[2]!.sendEncoded(encodeFrame({ presence: 'c' }), 'lazy');
    await waitFor(() => received.every((frames, i) => frames.length === (i === 2 ? 3 : 2)), 'the lazy frames');
    expect(received[0]).toEqual([{ presence: 'a' }, { presence: 'b' }]);
    expect(received[1]).toEqual([{ presence: 'a' }, { presence: 'b' }]);
    expect(received[2]).toEqual([{ presence: 'a' }, { presence: 'b' }, { presence: 'c' }]);
  });

  it('spreads the lazy frames falling due together over turns, every peer getting all of them', async () => {
    const { connections, received } = await pairs(4, 2 * LAZY_BYTES_PER_TURN);
    const { perTurn } = writesPerTurn(connections);
    const big = encodeFrame({ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) });
    const small = encodeFrame({ presence: 'y' });
    for (const connection of connections) {
      connection.sendEncoded(big, 'lazy');
      connection.sendEncoded(small, 'lazy');
    }
    await waitFor(() => received.every((frames) => frames.length === 2), 'every lazy frame');
    expect(perTurn).toEqual([1, 1, 1, 1]);
    for (const frames of received) expect(frames).toEqual([{ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) }, { presence: 'y' }]);
  });

  it('writes in a later turn of a pass only the frames the peer had when the pass began, the rest in the next', async () => {
    const { connections, received } = await pairs(2, 2 * LAZY_BYTES_PER_TURN);
    const writes: number[][] = [[], []];
    const late = encodeFrame({ presence: 'late' });
    connections.forEach((connection, i) =>
      beforeEachWrite(connection, (chunk) => {
        writes[i]!.push(chunk.length);
        // Comes for both while the pass is under way: the first was written, the second not yet.
        if (i === 0 && writes[0]!.length === 1) for (const peer of connections) peer.sendEncoded(late, 'lazy');
      }),
    );
    const big = encodeFrame({ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) });
    for (const connection of connections) connection.sendEncoded(big, 'lazy');
    await waitFor(() => received.every((frames) => frames.length === 2), 'both frames at both peers');
    expect(writes).toEqual([
      [big.length, late.length],
      [big.length, late.length],
    ]);
    for (const frames of received) expect(frames).toEqual([{ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) }, { presence: 'late' }]);
  });

  it("writes a 'soon' frame that comes during a pass in the next pass right after it, not a window later", async () => {
    // A window far longer than the test: only a pass that follows at once brings the late frame in time.
    // Three peers owed a turn's bytes each: the pass spans turns, so the late frame's timer fires during it.
    const { connections, received } = await pairs(3, 2 * LAZY_BYTES_PER_TURN, false, 60_000);
    const late = encodeFrame({ presence: 'late' });
    let sent = false;
    beforeEachWrite(connections[0]!, () => {
      if (!sent) for (const peer of connections) peer.sendEncoded(late, 'soon');
      sent = true;
    });
    const big = encodeFrame({ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) });
    for (const connection of connections) connection.sendEncoded(big, 'soon');
    await waitFor(() => received.every((frames) => frames.length === 2), 'the late frame at every peer');
    for (const frames of received) expect(frames).toEqual([{ presence: 'x'.repeat(LAZY_BYTES_PER_TURN) }, { presence: 'late' }]);
  });

  it('writes the frames of the turn at once when told to, ahead of anything written after', async () => {
    const { connections, received, scheduler } = await pairs(2);
    for (const connection of connections) connection.send({ n: 1 });
    scheduler.flushPending();
    // Written straight to the sockets: had the frames above waited for the end of the turn, these would arrive first.
    for (const connection of connections) connection.socket.write(encodeFrame({ n: 2 }));
    await waitFor(() => received.every((frames) => frames.length === 2), 'two frames each');
    expect(received).toEqual([
      [{ n: 1 }, { n: 2 }],
      [{ n: 1 }, { n: 2 }],
    ]);
  });
  it('hands the frames of a turn to sockets for a bounded time when told to write them at once, the rest in later turns, in order', async () => {
    const count = WRITE_FREE_CONNECTIONS + 20;
    const { connections, received, scheduler } = await pairs(count);
    let written = 0;
    for (const connection of connections) {
      beforeEachWrite(connection, () => {
        // As TLS encrypting a large fan-out's copy for this peer.
        busy(1);
        written += 1;
      });
    }
    for (const connection of connections) connection.send({ n: 1 });
    scheduler.flushPending();
    const writtenAtOnce = written;
    for (const connection of connections) connection.send({ n: 2 });
    await waitFor(() => received.every((frames) => frames.length === 2), 'both frames at every peer');
    // 1 ms each: the clock counts only after the first WRITE_FREE_CONNECTIONS, and by then its 8 ms are gone.
    expect(writtenAtOnce).toBe(WRITE_FREE_CONNECTIONS);
    for (const frames of received) expect(frames).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe('Connection writes within the turn budget', () => {
  it('writes only the free connections in a turn whose budget other work spent, the rest in the next turn', async () => {
    const count = WRITE_FREE_CONNECTIONS + 20;
    const { connections, received, scheduler } = await pairs(count);
    const { perTurn } = writesPerTurn(connections);
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        // As a commit, or a batch of handshakes, that took the turn's budget before its pushes are written.
        turnBegins();
        busy(TURN_BUDGET_MS + 2);
        for (const connection of connections) connection.send({ n: 1 });
        scheduler.flushPending();
        resolve();
      }),
    );
    await waitFor(() => received.every((frames) => frames.length === 1), 'the frame at every peer');
    expect(perTurn).toEqual([WRITE_FREE_CONNECTIONS, 20]);
  });

  it('writes one connection of a lazy pass falling due in a turn whose budget was spent, the rest in the next turn', async () => {
    const { connections, received } = await pairs(5);
    const { perTurn, writes } = writesPerTurn(connections);
    const frame = encodeFrame({ presence: 'a' });
    for (const connection of connections) connection.sendEncoded(frame, 'lazy');
    // The lazy timer (LAZY_FLUSH_MS) fires in the timers phase at the end of a turn whose callbacks spent its budget.
    const spend = (): void => {
      if (writes() > 0) return;
      turnBegins();
      busy(TURN_BUDGET_MS + 2);
      setImmediate(spend);
    };
    setImmediate(spend);
    await waitFor(() => received.every((frames) => frames.length === 1), 'the lazy frame at every peer');
    // One in the spent turn; the rest after it (on a loaded machine a later turn can run over its budget too).
    expect(perTurn[0]).toBe(1);
    expect(perTurn.length).toBeGreaterThan(1);
    expect(perTurn.reduce((sum, count) => sum + count, 0)).toBe(5);
  });
});

describe('Connection closing signal', () => {
  it('aborts when the peer goes, when the server closes, and at once when asked for after the close', async () => {
    const { connections } = await pairs(3);
    const [byPeer, byServer, late] = connections as [Connection, Connection, Connection];
    const peerGone = byPeer.closingSignal;
    const serverClosed = byServer.closingSignal;
    expect([peerGone.aborted, serverClosed.aborted]).toEqual([false, false]);
    sockets[0]!.destroy();
    byServer.close({ code: ErrorCode.SERVER_SHUTDOWN, message: 'bye' });
    expect(serverClosed.aborted).toBe(true);
    await waitFor(() => peerGone.aborted, 'the signal of the connection whose peer went');
    late.destroy(null);
    expect(late.closingSignal.aborted).toBe(true);
  });
});

describe('Connection heartbeat', () => {
  it('counts the peer as heard while this side, behind with its frames, has stopped reading them', async () => {
    const { connections } = await pairs(1);
    const connection = connections[0]!;
    let release = (): void => undefined;
    const handled: unknown[] = [];
    connection.onFrame((frame) => {
      handled.push(frame);
      return new Promise<void>((resolve) => (release = resolve));
    });
    sockets[0]!.write(Buffer.concat(Array.from({ length: 100 }, (_, n) => encodeFrame({ n }))));
    await waitFor(() => connection.socket.isPaused(), 'the socket paused while the handler is behind');
    const pausedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connection.lastReceivedAt).toBeGreaterThan(pausedAt);
    // Once the frames are handled and reading resumes, silence counts again from the last data.
    const lastData = Date.now();
    while (handled.length < 100) {
      release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    release();
    await waitFor(() => !connection.socket.isPaused(), 'reading again');
    expect(connection.lastReceivedAt).toBeLessThan(lastData);
  });
});

describe('Connection reads', () => {
  it('handles no more frames of a peer that does not read its answers until it reads, then answers every one in order', async () => {
    const { connections, received } = await pairs(1);
    const connection = connections[0]!;
    const pad = 'x'.repeat(64 * 1024);
    let handled = 0;
    connection.onFrame((frame) => {
      handled += 1;
      if (frame.kind === 'frame') connection.send({ n: (frame.value as { n: number }).n, pad });
    });
    const peer = sockets[0]!;
    peer.pause();
    // Answers to all of them would be 26 MB, over the 8 MB a peer may leave unread before it is dropped.
    const count = 400;
    peer.write(Buffer.concat(Array.from({ length: count }, (_, n) => encodeFrame({ n }))));
    // Counted as the connection counts them (what the socket holds, and what waits for the piece it is
    // writing), and until no frame is handled for a while: earlier, the kernel may still take a piece.
    await waitFor(async () => {
      const before = handled;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return connection.queuedBytes > WRITE_HIGH_WATER_BYTES && handled === before;
    }, 'the answers piling up unread');
    const handledThen = handled;
    const stoppedAt = Date.now();
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handled).toBe(handledThen);
    // The peer is the one behind: the pings it may send meanwhile are not read, and its silence counts.
    expect(connection.lastReceivedAt).toBeLessThanOrEqual(stoppedAt);
    expect(handled).toBeLessThan(count);
    expect(connection.isOpen).toBe(true);
    expect(connection.socket.isPaused()).toBe(true);
    peer.resume();
    await waitFor(() => received[0]!.length === count, 'every answer');
    expect(received[0]!.map((frame) => (frame as { n: number }).n)).toEqual(Array.from({ length: count }, (_, n) => n));
  });

  it('goes on handling frames while more than the high-water mark waits in its own lazy frames, not yet written', async () => {
    const { connections, received } = await pairs(1);
    const connection = connections[0]!;
    connection.onFrame((frame) => {
      if (frame.kind === 'frame') connection.send(frame.value);
    });
    const lazy = { presence: 'x'.repeat(2 * WRITE_HIGH_WATER_BYTES) };
    connection.sendEncoded(encodeFrame(lazy), 'lazy');
    sockets[0]!.write(Buffer.concat([encodeFrame({ n: 1 }), encodeFrame({ n: 2 })]));
    await waitFor(() => received[0]!.length === 3, 'the lazy frame and both answers');
    expect(received[0]).toEqual([lazy, { n: 1 }, { n: 2 }]);
  });

  it('answers every frame, in order, when the connections that waited for a turn all run before the turn scheduled for them', async () => {
    const { connections, received } = await pairs(4, options.maxFrameBytes, true);
    let slow = true;
    for (const connection of connections) {
      connection.onFrame((frame) => {
        // The first frame handled takes the turn's budget: the others wait for a later turn.
        if (slow) {
          slow = false;
          busy(TURN_BUDGET_MS + 2);
        }
        if (frame.kind === 'frame') connection.send(frame.value);
      });
    }
    for (const socket of sockets.slice(0, 4)) socket.write(Buffer.concat([0, 1, 2].map((n) => encodeFrame({ n }))));
    await waitFor(() => received.every((frames) => frames.length === 3), 'three answers on every connection');
    for (const frames of received) expect(frames).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it.each([
    ['in the handler', false],
    ['in a microtask after the handler has returned its promise', true],
  ])('spreads a storm of frames from many connections over turns, answering each connection in order: work done %s', async (_, later) => {
    const { connections, received } = await pairs(200, options.maxFrameBytes, true);
    // Frames handled in each turn of the loop (a turn ends where the ticker runs).
    const perTurn: number[] = [0];
    let storm = true;
    const ticker = (): void => {
      perTurn.push(0);
      if (storm) setImmediate(ticker);
    };
    setImmediate(ticker);
    for (const connection of connections) {
      const work = (frame: DecodedFrame): void => {
        busy(1);
        perTurn[perTurn.length - 1]! += 1;
        if (frame.kind === 'frame') connection.send(frame.value);
      };
      connection.onFrame((frame) => (later ? Promise.resolve().then(() => work(frame)) : work(frame)));
    }
    for (const socket of sockets.slice(0, 200)) socket.write(Buffer.concat([0, 1, 2].map((n) => encodeFrame({ n }))));
    try {
      await waitFor(() => received.every((frames) => frames.length === 3), 'three answers on every connection');
    } finally {
      storm = false;
    }
    for (const frames of received) expect(frames).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    // 1 ms each: free frames only while the turn's budget lasts, then one of those that waited.
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(TURN_BUDGET_MS + 2);
  });
});

describe('Connection end', () => {
  it("handles the frames a peer sent before it closed, its bye last, and reports the close with the bye's reason", async () => {
    const { connections } = await pairs(1);
    const connection = connections[0]!;
    const handled: unknown[] = [];
    connection.onFrame((frame) => {
      if (frame.kind !== 'frame') return;
      const value = frame.value as { type: string; error?: WireError };
      handled.push(value.type);
      if (value.type === 'bye') return connection.destroy(value.error!);
      // A handler slower than the socket's close, as a client's is on a loaded machine.
      return new Promise<void>((resolve) => setTimeout(resolve, 20));
    });
    const closed = new Promise((resolve) => connection.onClose(resolve));
    const bye = { code: ErrorCode.SERVER_DRAINING, message: 'elsewhere' };
    sockets[0]!.end(Buffer.concat([...[0, 1, 2, 3, 4].map(() => encodeFrame({ type: 'sent' })), encodeFrame({ type: 'bye', error: bye })]));
    expect(await closed).toEqual(bye);
    expect(handled).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'bye']);
  });

  it('reports the close of a peer whose last frame a handler never finishes', async () => {
    const { connections } = await pairs(1);
    const connection = connections[0]!;
    connection.onFrame(() => new Promise<void>(() => undefined));
    const closed = new Promise((resolve) => connection.onClose(resolve));
    sockets[0]!.end(Buffer.concat([encodeFrame({ n: 1 }), encodeFrame({ n: 2 })]));
    expect(await closed).toBe(null);
  });
});
