/** Conversation changes (protocol 1.1, docs/PROTOCOL.md §17): edit, delete, react, read positions, typing, the event log. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { type Handlers, type ServerContext, ServerError } from '../dispatch.js';

const notYet = (): never => {
  throw new ServerError(ErrorCode.INTERNAL, 'not implemented yet');
};

export function conversationHandlers(_ctx: ServerContext) {
  return {
    edit: notYet,
    delete: notYet,
    react: notYet,
    read: notYet,
    readState: notYet,
    receipts: notYet,
    typing: notYet,
    privacy: notYet,
    events: notYet,
  } satisfies Pick<Handlers, 'edit' | 'delete' | 'react' | 'read' | 'readState' | 'receipts' | 'typing' | 'privacy' | 'events'>;
}
