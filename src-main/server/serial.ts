/**
 * Work that must not interleave once store calls really wait (a remote store): each queue runs
 * its tasks one at a time, in the order they were given. A task that finds its queue idle
 * starts in a microtask, not a later turn.
 */

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.pending += 1;
    this.tail = result.then(
      () => this.done(),
      () => this.done(),
    );
    return result;
  }

  /** Whether no task is queued or running. */
  get idle(): boolean {
    return this.pending === 0;
  }

  private done(): void {
    this.pending -= 1;
  }
}

/** One SerialQueue per key, kept only while it has work. */
export class KeyedQueue<K> {
  private readonly queues = new Map<K, SerialQueue>();

  run<T>(key: K, work: () => T | Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new SerialQueue();
      this.queues.set(key, queue);
    }
    const found = queue;
    const result = found.run(work);
    const forget = (): void => {
      if (found.idle && this.queues.get(key) === found) this.queues.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  /** Runs `work` holding every key's queue (taken in sorted order, so two such calls cannot wait on each other). */
  runAll<T>(keys: Iterable<K>, work: () => T | Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const hold = (index: number): Promise<T> =>
      index === sorted.length ? Promise.resolve().then(work) : this.run(sorted[index]!, () => hold(index + 1));
    return hold(0);
  }
}
