/**
 * The workload's app clients, each a real ChatClient (outbox included) run in a process of the
 * checker's own (client-process.ts), not in the checker's event loop: at the operator's load of
 * issue 32 twelve clients' TLS and frames there kept the generator from its pace. A `RemoteClient`
 * stands for one: what the checker asks of it goes to its process, and what it records comes back
 * in the order the client emitted it (its messages, log entries, acknowledgements, refusals, a
 * fatal error, its state), each refusal stamped with the time the client had it. A user's clients
 * all live in one process, so what a user's successive clients show keeps its order too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { ChatMessage, ConversationEvent, Target } from '../../../src-shared/protocol/objects.js';
import type { RequestBody, RequestResults, RequestType } from '../../../src-shared/protocol/requests.js';
import type { ConnectionState } from '../../client/client.js';
import { ClientError, type ClientErrorCode } from '../../client/errors.js';
import type { ClientOptions } from '../../client/options.js';
import type { OutboxItem } from '../../client/outbox.js';
import { SCRIPTS, scriptArgs } from '../scripts.js';

/** What a client's process reports of it, as the client emitted it. */
export interface Facts {
  state: ConnectionState;
  message: ChatMessage;
  event: ConversationEvent;
  sent: { clientMsgId: string; message: ChatMessage };
  /** Refused for good; `at`: when the client had the refusal. */
  sendFailed: { clientMsgId: string; code: ClientErrorCode; at: number };
  /** The client gave up on its host and closed. */
  fatal: { code: ClientErrorCode; message: string };
}

/** What the checker records of a client: a handler per fact but its state, which the RemoteClient keeps. */
export type Follower = { [K in Exclude<keyof Facts, 'state'>]: (fact: Facts[K]) => void };

/** What the app keeps of a client it closes to start again (core/link.ts): its session, its unsent messages, its event cursor. */
export interface Kept {
  token: string | undefined;
  unsent: OutboxItem[];
  lastEventId: number;
}

/** An error as a client's process reports it: a ClientError's code, or none for anything else. */
interface ReportedError {
  code?: ClientErrorCode;
  message: string;
  /** When the client had it. */
  at: number;
  /** The client was not online as the request reached it: nothing was sent. */
  notSent?: true;
}

export type Command =
  | { op: 'create'; client: number; options: ClientOptions }
  | { op: 'connect'; client: number; reply: number }
  | { op: 'send'; client: number; to: Target; text: string; clientMsgId: string }
  | { op: 'request'; client: number; reply: number; type: RequestType; params: unknown }
  | { op: 'close'; client: number; reply: number };

export type FactReport = { [K in keyof Facts]: { client: number; fact: K; value: Facts[K] } }[keyof Facts];

export type Report = FactReport | { reply: number; result: unknown } | { reply: number; error: ReportedError } | { ready: true };

/**
 * A request's answer came as an error; `at`: when the client had it (a refusal's time, compared with group
 * changes'). `notSent`: the client was offline when the request reached its process, so nothing went to the
 * host: in the checker's own process the user would have been seen offline and waited.
 */
export class AnsweredError extends ClientError {
  constructor(
    code: ClientErrorCode,
    message: string,
    readonly at: number,
    readonly notSent: boolean,
  ) {
    super(code, message);
  }
}

function toError({ code, message, at, notSent }: ReportedError): Error {
  return code !== undefined ? new AnsweredError(code, message, at, notSent === true) : new Error(message);
}

function deliver<K extends Exclude<keyof Facts, 'state'>>(follower: Follower, report: { fact: K; value: Facts[K] }): void {
  follower[report.fact](report.value);
}

export class RemoteClient {
  state: ConnectionState = 'idle';
  /** Records what the client emits; set as it is made (nothing comes before the next turn). */
  follower: Follower | undefined;

  constructor(
    private readonly processes: ClientProcesses,
    readonly child: ChildProcess,
    readonly id: number,
  ) {}

  /** Resolves once logged in and caught up; rejects as ChatClient.connect does. */
  async connect(): Promise<void> {
    await this.processes.ask(this.child, (reply) => ({ op: 'connect', client: this.id, reply }));
  }

  /** Queues a message in the client's outbox; its outcome comes as `sent` or `sendFailed`. */
  send(to: Target, text: string, clientMsgId: string): void {
    this.processes.tell(this.child, { op: 'send', client: this.id, to, text, clientMsgId });
  }

  async request<T extends RequestType>(type: T, params?: RequestBody<T>): Promise<RequestResults[T]> {
    return (await this.processes.ask(this.child, (reply) => ({ op: 'request', client: this.id, reply, type, params }))) as RequestResults[T];
  }

  /** Closes the client; resolves with what the app keeps of it, read just before. */
  async close(): Promise<Kept> {
    return (await this.processes.ask(this.child, (reply) => ({ op: 'close', client: this.id, reply }))) as Kept;
  }
}

/** The processes of a run's clients; user i's clients run in process i mod their count. */
export class ClientProcesses {
  /** Why the run cannot be trusted: a process of its clients ended. */
  failure: Error | undefined;
  private readonly clients = new Map<number, RemoteClient>();
  private readonly waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void; child: ChildProcess }>();
  private nextId = 1;
  private stopping = false;

  private constructor(readonly children: readonly ChildProcess[]) {
    for (const child of children) {
      child.on('message', (batch: Report[]) => {
        for (const report of batch) this.receive(report);
      });
      child.once('exit', (code, signal) => {
        if (this.stopping) return;
        this.failure ??= new Error(`a process of the checker's clients exited (${code ?? signal})`);
        for (const [reply, waiter] of this.waiting) {
          if (waiter.child !== child) continue;
          this.waiting.delete(reply);
          waiter.reject(this.failure);
        }
        for (const client of this.clients.values()) if (client.child === child) client.state = 'closed';
      });
    }
  }

  static async start(count: number): Promise<ClientProcesses> {
    const children = [...Array(count).keys()].map(() =>
      spawn(process.execPath, scriptArgs(SCRIPTS['checker-clients']), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' }),
    );
    // A process takes commands once it listens: it says so first.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            child.once('message', () => resolve());
            child.once('exit', (code) => reject(new Error(`a process of the checker's clients exited with ${code} as it started`)));
          }),
      ),
    );
    return new ClientProcesses(children);
  }

  /** A new client for user `user` (not yet connected). */
  client(user: number, options: ClientOptions): RemoteClient {
    const child = this.children[user % this.children.length]!;
    const client = new RemoteClient(this, child, this.nextId++);
    this.clients.set(client.id, client);
    this.tell(child, { op: 'create', client: client.id, options });
    return client;
  }

  tell(child: ChildProcess, command: Command): void {
    if (child.connected) child.send(command);
  }

  /** Sends the command `make` builds with its reply's number; resolves with the answer, rejects with its error. */
  ask(child: ChildProcess, make: (reply: number) => Command): Promise<unknown> {
    if (!child.connected) return Promise.reject(this.failure ?? new ClientError('CLOSED', 'the clients were stopped'));
    const reply = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(reply, { resolve, reject, child });
      child.send(make(reply));
    });
  }

  private receive(report: Report): void {
    if ('client' in report) {
      const client = this.clients.get(report.client);
      if (!client) return;
      if (report.fact === 'state') client.state = report.value;
      else if (client.follower) deliver(client.follower, report);
    } else if ('reply' in report) {
      const waiter = this.waiting.get(report.reply);
      this.waiting.delete(report.reply);
      if ('error' in report) waiter?.reject(toError(report.error));
      else waiter?.resolve(report.result);
    }
  }

  /** Ends the processes (their clients with them). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        return exited;
      }),
    );
  }
}
