/** What the files UI asks of the app: sending what was attached, saving a received file. */
import type { OutgoingFile, Result } from '../../src-shared/api.js';
import type { Attachment, Target } from '../../src-shared/protocol/objects.js';
import { pathForFile, savedFileUrl } from '../api.js';
import { base64Of, describeImage } from '../lib/attachments.js';
import type { AppContext } from './sync.js';

/** The sends whose files the page is still handing to the app, by row: Cancel there stops the whole send. */
const handovers = new Map<string, AbortController>();

/** Sends cancelled before the app had their files, by row: Retry there sends them again, in the same rows. */
const cancelled = new Map<string, () => void>();

/** Cancel on a row whose file the app does not have yet. */
export function cancelHandover(row: string): void {
  handovers.get(row)?.abort();
}

/** Whether Retry can send again a row's file that the app never had. */
export function canRetryHandover(row: string): boolean {
  return cancelled.has(row);
}

export function retryHandover(row: string): void {
  cancelled.get(row)?.();
}

/** Dismissed: the files of a cancelled send are let go. */
export function forgetHandover(row: string): void {
  cancelled.delete(row);
}

const CANCELLED: Result<never> = { ok: false, error: { code: 'CANCELLED', message: 'The send was cancelled' } };

/**
 * Sends the files in one message with the caption (a reply to the message `replyTo` when given); an image
 * gets its measurements and thumbnail made here. Each file has its row from now on: first the page handing
 * it to the app (the browser shell's hop, with its progress), then the app's upload, in the same row.
 */
export async function sendAttached(
  ctx: AppContext,
  target: Target,
  files: File[],
  caption: string,
  replyTo: number | undefined,
  /** Retry: the rows of the send cancelled before, shown again as under way. */
  again?: string[],
): Promise<Result<{ transfers: string[] }>> {
  const state = ctx.store.getState();
  const controller = new AbortController();
  const rows = files.map((file, index) => ({ id: again?.[index] ?? crypto.randomUUID(), name: file.name, size: file.size, target }));
  const ids = rows.map((row) => row.id);
  for (const id of ids) {
    handovers.set(id, controller);
    cancelled.delete(id);
  }
  state.startHandover(rows);
  try {
    const outgoing: OutgoingFile[] = [];
    for (const [index, file] of files.entries()) {
      const row = ids[index]!;
      const image = await describeImage(file);
      const where = await pathForFile(file, (bytes) => state.handoverProgress(row, bytes), controller.signal);
      if (controller.signal.aborted) {
        state.endHandover(ids, 'cancelled');
        const retry = () => void sendAttached(ctx, target, files, caption, replyTo, ids);
        for (const id of ids) cancelled.set(id, retry);
        return CANCELLED;
      }
      if (where !== null && 'error' in where) {
        // The composer shows the error and keeps the files to send again.
        for (const id of ids) state.dismissTransfer(id);
        return { ok: false, error: { code: 'INTERNAL', message: `${file.name} could not be read: ${where.error}` } };
      }
      outgoing.push({ ...(where ?? { name: file.name, data: await base64Of(file) }), ...image });
      state.handoverProgress(row, file.size);
    }
    const result = await ctx.api.sendFiles(target, outgoing, caption, replyTo);
    if (!result.ok) {
      for (const id of ids) state.dismissTransfer(id);
      return result;
    }
    state.adoptTransfers(ids.map((id, index) => [id, result.value.transfers[index]!]));
    // Cancel pressed while the app was taking them: the app's transfers stop too.
    if (controller.signal.aborted) await ctx.api.cancelTransfer(result.value.transfers[0]!);
    return result;
  } finally {
    for (const id of ids) handovers.delete(id);
  }
}

/** Browser shell: the app downloads the file, then the browser saves it from the shell like any download. */
export async function downloadToBrowser(ctx: AppContext, file: Pick<Attachment, 'id' | 'name'>): Promise<Result<void>> {
  const saved = await ctx.api.downloadFile(file.id, file.name);
  if (!saved.ok) return saved;
  const link = document.createElement('a');
  link.href = savedFileUrl(file.id, file.name, saved.value.path);
  link.download = file.name;
  link.click();
  return { ok: true, value: undefined };
}
