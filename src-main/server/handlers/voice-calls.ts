/** Calls (issue 39, docs/PROTOCOL.md §21): the requests; the calls themselves live in ../calls/. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';

export function voiceCallHandlers(_ctx: ServerContext) {
  const notYet = (): never => {
    throw new ServerError(ErrorCode.UNKNOWN_CALL, 'calls are not served yet');
  };
  return {
    callStart: notYet,
    callJoin: notYet,
    callDecline: notYet,
    callLeave: notYet,
    callSignal: notYet,
    calls: async () => ({ calls: [] }),
  } satisfies Pick<Handlers, 'callStart' | 'callJoin' | 'callDecline' | 'callLeave' | 'callSignal' | 'calls'>;
}
