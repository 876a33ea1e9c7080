/** What the files UI asks of the app: sending what was attached, saving a received file. */
import type { OutgoingFile, Result } from '../../src-shared/api.js';
import type { Attachment, Target } from '../../src-shared/protocol/objects.js';
import { pathForFile, savedFileUrl } from '../api.js';
import { base64Of, describeImage } from '../lib/attachments.js';
import type { AppContext } from './sync.js';

/**
 * Sends the files in one message with the caption (a reply to the message `replyTo` when given); an image
 * gets its measurements and thumbnail made here.
 */
export async function sendAttached(
  ctx: AppContext,
  target: Target,
  files: File[],
  caption: string,
  replyTo: number | undefined,
): Promise<Result<{ transfers: string[] }>> {
  const outgoing: OutgoingFile[] = [];
  for (const file of files) {
    const image = await describeImage(file);
    const where = await pathForFile(file);
    if (where !== null && 'error' in where) return { ok: false, error: { code: 'INTERNAL', message: `${file.name} could not be read: ${where.error}` } };
    outgoing.push({ ...(where ?? { name: file.name, data: await base64Of(file) }), ...image });
  }
  return ctx.api.sendFiles(target, outgoing, caption, replyTo);
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
