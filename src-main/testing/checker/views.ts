/**
 * What the checker reads of the users' views: a conversation's whole history, a message as compared
 * (`seen`), and, once the workload is over, every user's final view of the conversations they read and
 * their read positions.
 */
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import type { History, Seen } from './check.js';
import type { RequestBody, RequestResults, RequestType } from '../../../src-shared/protocol/requests.js';
import { ClientError } from '../../client/errors.js';
import { AnsweredError, type RemoteClient } from './remote-client.js';

/** Times a request is asked again: on a machine loaded past 30 a read can take over the client's 15 s. */
const ATTEMPTS = 4;

/**
 * A request asked again, a second later, when its client was between links (nothing was sent, so a write
 * goes again safely) and, for reads (`timeouts`), after a timeout: a host that hung instead is its own
 * anomaly, request-unanswered.
 */
export async function ask<T extends RequestType>(client: RemoteClient, type: T, params: RequestBody<T> | undefined, timeouts: boolean): Promise<RequestResults[T]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.request(type, params);
    } catch (error) {
      const between = error instanceof AnsweredError && error.notSent && error.code !== 'CLOSED' && client.state !== 'closed';
      if (attempt >= ATTEMPTS || !(between || (timeouts && error instanceof ClientError && error.code === 'TIMEOUT'))) throw error;
      if (between) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** A conversation's whole history as `client` reads it, oldest first. */
export async function conversationView(client: RemoteClient, conv: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await ask(client, 'history', { conv, before, limit: 200 }, true);
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.id;
  }
  return pages.flat();
}

export const seen = (m: ChatMessage): Seen => ({
  id: m.id,
  clientMsgId: m.clientMsgId,
  conv: m.conv,
  ...(m.deleted ? { deleted: true } : { text: m.text, reactions: (m.reactions ?? []).flatMap((r) => r.users.map((u) => `${u} ${r.emoji}`)).sort() }),
});

/** Read anew: the client's state moves while the reads wait. */
const closed = (client: RemoteClient): boolean => client.state === 'closed';

/**
 * Records in `history` each user's final history of every conversation they read at the end (the run's
 * messages, those whose clientMsgId starts with `prefix`) and their final read positions; `clients[i]`
 * is user `names[i]`'s, skipped when closed.
 */
export async function readFinalViews(history: History, names: readonly string[], clients: readonly RemoteClient[], prefix: string): Promise<void> {
  const readsAtEnd = (name: string, conv: string): boolean => {
    const group = history.groups.get(conv);
    return group ? !group.deleted && group.members.get(name)?.at(-1)?.to === null : (history.readers.get(conv)?.has(name) ?? false);
  };
  const convs = [...history.readers.keys(), ...history.groups.keys()];
  for (const [i, client] of clients.entries()) {
    if (client.state === 'closed') continue;
    try {
      const views = new Map<string, Seen[]>();
      for (const conv of convs) {
        if (readsAtEnd(names[i]!, conv)) views.set(conv, (await conversationView(client, conv)).filter((m) => m.clientMsgId.startsWith(prefix)).map(seen));
      }
      const { conversations } = await ask(client, 'readState', undefined, true);
      history.views.set(names[i]!, views);
      history.readState.set(names[i]!, new Map(conversations.map(({ conv, upTo }) => [conv, upTo])));
    } catch (error) {
      // A client that gave up meanwhile is reported as such (client-gave-up); its views are not read.
      if (!closed(client) && !(error instanceof ClientError && error.code === 'CLOSED')) throw error;
    }
  }
}
