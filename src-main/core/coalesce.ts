/** Returns a trigger that runs `task` once on the next turn of the event loop, however often it is pulled before then. */
export function coalesce(task: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      task();
    });
  };
}
