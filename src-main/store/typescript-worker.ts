/**
 * Starting a worker thread whose code is one of the bundle's entries (the search worker, the device
 * history's reader), wherever the code runs: from a bundle (the app, the bench, the scripts tests start)
 * the entry `<name>.js` lies beside this chunk (scripts/node-bundle.ts emits flat); under vitest it is in
 * the test bundle (src-main/testing/scripts.ts); from the TypeScript sources (tsx) it is the .ts file.
 * Then calling it (ThreadCalls): a message out, the reply with its id back.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `name`: the entry's name in every bundle that starts it; `source`: its TypeScript file. */
export function entryWorker(name: string, source: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // Under vitest the entry is bundled already (src-main/testing/scripts.ts): it starts in a fraction of tsx's time.
  const bundle = process.env.LANCHAT_TEST_BUNDLE;
  if (bundle) return new Worker(join(bundle, `${name}.js`), { workerData });
  return typescriptWorker(source, workerData);
}

/**
 * A worker thread running a TypeScript module straight from the sources (tests, tsx). The worker
 * registers tsx's loader itself before it imports the module: `--import` in a worker's execArgv
 * does not take effect in Node 20.
 */
export function typescriptWorker(source: URL, workerData: unknown): Worker {
  const tsxApi = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const bootstrap = `import(${JSON.stringify(pathToFileURL(tsxApi).href)})
    .then(({ register }) => { register(); return import(${JSON.stringify(source.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * Calls to a worker thread that answers each message it is sent with one reply carrying the message's id.
 * The thread keeps the process alive only while calls are under way. Once it fails or ends, every call under
 * way and every later one fails with why (`failed`).
 */
export class ThreadCalls<Reply extends { id: number }> {
  readonly exited: Promise<void>;
  failed: Error | undefined;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  /** `what`: the thread as its error names it ("the search worker"). */
  constructor(
    readonly thread: Worker,
    what: string,
  ) {
    thread.unref();
    this.exited = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('message', (reply: Reply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) thread.unref();
      call.resolve(reply);
    });
    thread.on('error', (error) => this.fail(error));
    thread.on('exit', (code) => this.fail(new Error(`${what} stopped (exit code ${code})`)));
  }

  /** Calls under way. */
  get underWay(): number {
    return this.pending.size;
  }

  /** Sends the message `message(id)` makes and resolves with the thread's reply to it. */
  call(message: (id: number) => unknown): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.ref();
      this.thread.postMessage(message(id));
    });
  }

  /** Sends `message` (the thread's own way to be told to end), failing the calls under way with `error` if given; resolves once the thread has ended. */
  close(message: unknown, error?: Error): Promise<void> {
    if (error) this.fail(error);
    // Held until it ends: a process awaiting the close must not exit first (unref'd, it would).
    this.thread.ref();
    this.thread.postMessage(message);
    return this.exited;
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}
