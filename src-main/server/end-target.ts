/**
 * Ending sessions and transfers by whose they are (a kick, a ban, a password change, a group
 * removal): what an end names, and closing what it names on this node. The fan-out makes it
 * every node's (FanOut.end, outbound/fan-out.ts).
 */
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { WireError } from '../../src-shared/protocol/errors.js';
import { addressHost } from './access.js';
import type { Session } from './session.js';
import type { FileTransfers } from './transfer.js';

/** Whose sessions and transfers an end closes. */
export type EndTarget =
  /** Every session and transfer of the user, but those of the login token kept (the one changing its password). */
  | { userId: number; keepToken?: string }
  /** Every session and transfer from the address (as bans store it). */
  | { address: string }
  /** The transfers of one login token (a logout: its session closes by itself). */
  | { token: string }
  /** Downloads of a conversation's files, of one user or of everyone (a group deleted, a member removed). */
  | { conv: ConversationKey; userId?: number }
  /** Downloads of a message's files (the message deleted for everyone). */
  | { messageId: number }
  /** Downloads of one file (an encrypted message's, deleted for everyone by its sender, PROTOCOL §20.6). */
  | { fileId: string };

/** Closes what the target names on this node, but `except`; returns how many sessions it closed. */
export type EndHere = (target: EndTarget, reason: WireError, except?: Session) => number;

/** Ends the target among this node's open connections (`sessions`) and transfers. */
export function endHere(sessions: Iterable<Session>, files: FileTransfers | null): EndHere {
  return (target, reason, except) => {
    if ('conv' in target) {
      files?.end((owner) => owner.conv === target.conv && (target.userId === undefined || owner.userId === target.userId), reason);
      return 0;
    }
    if ('fileId' in target) {
      files?.end((owner) => owner.fileId === target.fileId, reason);
      return 0;
    }
    if ('messageId' in target) {
      files?.end((owner) => owner.messageId === target.messageId, reason);
      return 0;
    }
    if ('token' in target) {
      files?.end((owner) => owner.tokenHash === target.token, reason);
      return 0;
    }
    const hit = (address: string, userId: number | undefined, token: string | null): boolean =>
      'address' in target
        ? addressHost(address) === target.address
        : userId === target.userId && (target.keepToken === undefined || token !== target.keepToken);
    files?.end((owner) => hit(owner.address, owner.userId, owner.tokenHash), reason);
    let closed = 0;
    for (const session of sessions) {
      if (session === except || !session.connection.isOpen || !hit(session.connection.remoteAddress, session.user?.id, session.tokenHash)) continue;
      session.connection.close(reason);
      closed += 1;
    }
    return closed;
  };
}
