/**
 * Requests and their responses: ids, timeouts, and every frame from the server
 * checked against the protocol's schemas before anything else sees it.
 */
import { z } from 'zod';
import { type PushFrame, isPushType, pushes } from '../../src-shared/protocol/pushes.js';
import {
  type RequestBody,
  type RequestResults,
  type RequestType,
  describeIssue,
  requests,
  responseFrame,
} from '../../src-shared/protocol/requests.js';
import type { Connection } from '../net/connection.js';
import { ClientError } from './errors.js';

/** What one frame from the server is, once checked against the protocol's schemas. */
export type ServerFrameReading =
  | { kind: 'response'; frame: z.infer<typeof responseFrame> }
  | { kind: 'push'; push: PushFrame }
  /** A push type this client does not know: a later 1.x server may send one; it is ignored. */
  | { kind: 'unknown' }
  | { kind: 'invalid'; problem: string };

/** The table seen per request type, so that indexing it with a generic type keeps its own result type. */
const resultSchemas: { [K in RequestType]: { result: z.ZodType<RequestResults[K]> } } = requests;

export function readServerFrame(value: unknown): ServerFrameReading {
  // Read by hand: every frame's schema below checks it again, and a restart brings each client a thousand frames.
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') return { kind: 'invalid', problem: 'a frame without a string "type"' };
  if (type === 'res') {
    const parsed = responseFrame.safeParse(value);
    return parsed.success ? { kind: 'response', frame: parsed.data } : { kind: 'invalid', problem: `a response: ${describeIssue(parsed.error)}` };
  }
  if (!isPushType(type)) return { kind: 'unknown' };
  const parsed = pushes[type].safeParse(value);
  return parsed.success ? { kind: 'push', push: parsed.data } : { kind: 'invalid', problem: `a ${type} push: ${describeIssue(parsed.error)}` };
}

interface Pending {
  /** Resolves with the result when it matches its request's schema; returns what is wrong otherwise. */
  settle(result: unknown): string | null;
  reject(error: ClientError): void;
  timer: NodeJS.Timeout | undefined;
}

export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * Sends a request on the connection and resolves with its checked result; rejects with the
   * server's error. `first` sees the result before any later frame is read. `timeoutMs` null: no
   * timeout, the answer is awaited for as long as the connection lasts (failAll ends the wait).
   */
  call<T extends RequestType>(
    connection: Connection,
    type: T,
    params: RequestBody<T> | undefined,
    first?: (result: RequestResults[T]) => void,
    timeoutMs: number | null = this.timeoutMs,
  ): Promise<RequestResults[T]> {
    const id = this.nextId++;
    const schema = resultSchemas[type].result;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === null
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              reject(new ClientError('TIMEOUT', `no answer to ${type} in time`));
            }, timeoutMs);
      const settle = (result: unknown): string | null => {
        const parsed = schema.safeParse(result);
        if (!parsed.success) {
          const problem = `the result of ${type}: ${describeIssue(parsed.error)}`;
          reject(new ClientError('PROTOCOL_ERROR', `the server broke the protocol in ${problem}`));
          return problem;
        }
        first?.(parsed.data);
        resolve(parsed.data);
        return null;
      };
      this.pending.set(id, { settle, reject, timer });
      connection.send({ type, id, ...params });
    });
  }

  /** Settles the request a response answers; returns what is wrong when its result breaks the protocol. */
  answer(frame: z.infer<typeof responseFrame>): string | null {
    const pending = this.pending.get(frame.id);
    if (!pending) return null;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok) return pending.settle(frame.result);
    pending.reject(new ClientError(frame.error.code, frame.error.message, frame.error.retryAfterMs));
    return null;
  }

  /** Rejects every request still waiting (the connection is gone). */
  failAll(error: ClientError): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }
}
