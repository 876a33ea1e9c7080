/**
 * The SQLite store as the server calls it: every ServerStore call behind a promise (AsyncStore,
 * types.ts). A call runs at once and its promise is already settled, so awaiting it costs a
 * microtask, never a turn of the event loop.
 */
import type { Db } from './rows.js';
import { openStoreWithDatabase, type StoreOptions } from './store.js';
import type { AsyncStore, NewGroupEvent, ServerStore, StoredLine } from './types.js';

type Call = (...args: unknown[]) => unknown;
type Change<T> = (tx: AsyncStore) => Promise<{ result: T; events: NewGroupEvent[] }>;

/** Opens the SQLite store (openStore) for the server. */
export function openAsyncStore(file: string, options: StoreOptions = {}): AsyncStore {
  const { store, db } = openStoreWithDatabase(file, options);
  return asyncStore(store, db);
}

function settled(call: Call, args: unknown[]): Promise<unknown> {
  try {
    return Promise.resolve(call(...args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Wraps `sync`, whose statements run on `db`. `changeGroups` holds BEGIN IMMEDIATE … COMMIT open
 * while `change` awaits: better-sqlite3 cannot keep its own transaction across an await, but
 * `change` awaits only calls on `tx`, which settle in microtasks, so nothing else reaches the
 * database inside it but what other code calls meanwhile. Those calls wait for the transaction
 * to end (as on a database with one connection), so a rollback never takes them with it; a call
 * on the store itself from inside `change` would wait for its own end: `change` uses `tx` only.
 */
export function asyncStore(sync: ServerStore, db: Db): AsyncStore {
  const names = Object.keys(sync).filter((name) => name !== 'changeGroups');
  /** Settles when the open transaction ends; null when none is open. */
  let open: Promise<void> | null = null;

  const gated = (call: Call, args: unknown[]): Promise<unknown> => (open ? open.then(() => gated(call, args)) : settled(call, args));

  async function transaction<T>(ts: number, change: Change<T>): Promise<{ result: T; lines: StoredLine[] }> {
    let live = true;
    const tx = {} as Record<string, Call>;
    for (const name of names) {
      const call = (sync as unknown as Record<string, Call>)[name]!.bind(sync);
      tx[name] = (...args) => (live ? settled(call, args) : Promise.reject(new Error(`tx.${name} called after its transaction ended`)));
    }
    tx.changeGroups = () => Promise.reject(new Error('changeGroups does not nest'));
    let end = (): void => undefined;
    open = new Promise((resolve) => (end = resolve));
    try {
      db.exec('BEGIN IMMEDIATE');
      const { result, events } = await change(tx as unknown as AsyncStore);
      // Inside the open transaction better-sqlite3's own one is a savepoint: the lines join this commit.
      const stored = sync.changeGroups(ts, () => ({ result, events }));
      db.exec('COMMIT');
      return stored;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    } finally {
      live = false;
      open = null;
      end();
    }
  }

  const wrapped = {} as Record<string, Call>;
  for (const name of names) {
    const call = (sync as unknown as Record<string, Call>)[name]!.bind(sync);
    wrapped[name] = (...args) => gated(call, args);
  }
  wrapped.changeGroups = (...args) => gated(() => transaction(args[0] as number, args[1] as Change<unknown>), []);
  return wrapped as unknown as AsyncStore;
}
