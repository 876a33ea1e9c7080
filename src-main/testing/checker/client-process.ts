/**
 * A process of the checker's app clients (remote-client.ts starts it): it runs the ChatClients the
 * checker asks for and reports, in one ordered stream, everything the checker records of them as
 * they emit it, and the answers to its requests. Reports of one turn go in one message.
 */
import { ChatClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import type { Command, Report } from './remote-client.js';

const clients = new Map<number, ChatClient>();
let batch: Report[] = [];

function report(item: Report): void {
  if (batch.length === 0) setImmediate(flush);
  batch.push(item);
}

function flush(): void {
  const sent = batch;
  batch = [];
  process.send?.(sent);
}

function failed(reply: number, error: unknown): void {
  const at = Date.now();
  report({ reply, error: error instanceof ClientError ? { code: error.code, message: error.message, at } : { message: String(error), at } });
}

function create(id: number, client: ChatClient): void {
  clients.set(id, client);
  client.on('state', (value) => report({ client: id, fact: 'state', value }));
  client.on('message', (value) => report({ client: id, fact: 'message', value }));
  client.on('event', (value) => report({ client: id, fact: 'event', value }));
  client.on('sent', ({ clientMsgId, message }) => report({ client: id, fact: 'sent', value: { clientMsgId, message } }));
  client.on('sendFailed', ({ clientMsgId, error }) => report({ client: id, fact: 'sendFailed', value: { clientMsgId, code: error.code, at: Date.now() } }));
  client.on('fatal', ({ code, message }) => report({ client: id, fact: 'fatal', value: { code, message } }));
}

function run(command: Command): void {
  const client = clients.get(command.client);
  // In the order given (random: 0), so a seed places every user on the same node again.
  if (command.op === 'create') return create(command.client, new ChatClient({ ...command.options, random: () => 0 }));
  if (!client) throw new Error(`no client ${command.client}`);
  if (command.op === 'send') {
    // The outcome comes as 'sent' or 'sendFailed'; the promise rejects also when the client closes.
    client.send(command.to, command.text, command.clientMsgId).catch(() => undefined);
  } else if (command.op === 'connect') {
    client.connect().then(
      () => report({ reply: command.reply, result: null }),
      (error: unknown) => failed(command.reply, error),
    );
  } else if (command.op === 'request') {
    if (client.state !== 'online') {
      // CLOSED: the client is gone for good (its user gave up); the checker's copy of its state may not know yet.
      report({ reply: command.reply, error: { code: client.state === 'closed' ? 'CLOSED' : 'DISCONNECTED', message: `the client is ${client.state} (${command.type} not sent)`, at: Date.now(), notSent: true } });
      return;
    }
    client.request(command.type, command.params as never).then(
      (result) => report({ reply: command.reply, result }),
      (error: unknown) => failed(command.reply, error),
    );
  } else {
    const kept = { token: client.sessionToken, unsent: client.unsent, lastEventId: client.lastEventId };
    client.close();
    report({ reply: command.reply, result: kept });
  }
}

process.on('message', (command: Command) => run(command));
// The checker gone, its clients go too.
process.on('disconnect', () => {
  for (const client of clients.values()) client.close();
  process.exit(0);
});
report({ ready: true });
