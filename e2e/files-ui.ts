/** Files in the e2e tests: made in the page and dropped onto the window, as a user drags them in. */
import { createHash } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect } from './fixtures.js';

/**
 * A file the page makes itself: a picture drawn on a canvas, text, or `size` bytes of a fixed pattern.
 * A picture with `grain` is a photo's size: its pixels vary too finely to compress, its thumbnail stays smooth.
 */
export type Made =
  | { name: string; picture: { width: number; height: number; colour: string; grain?: boolean } }
  | { name: string; text: string }
  | { name: string; size: number };

/** Drops files made in the page onto the window: dragenter shows the drop zone, drop attaches them. */
export async function dropFiles(page: Page, files: Made[], expectZone = true): Promise<void> {
  const dataTransfer = await page.evaluateHandle(async (specs: Made[]) => {
    const transfer = new DataTransfer();
    for (const spec of specs) {
      if ('picture' in spec) {
        const canvas = new OffscreenCanvas(spec.picture.width, spec.picture.height);
        const context = canvas.getContext('2d')!;
        context.fillStyle = spec.picture.colour;
        context.fillRect(0, 0, spec.picture.width, spec.picture.height);
        context.fillStyle = '#ffffff';
        context.fillRect(spec.picture.width / 4, spec.picture.height / 4, spec.picture.width / 2, spec.picture.height / 2);
        if (spec.picture.grain) {
          const pixels = context.getImageData(0, 0, spec.picture.width, spec.picture.height);
          for (let index = 0; index < pixels.data.length; index++) if (index % 4 !== 3) pixels.data[index] = (pixels.data[index]! & 0xf0) | Math.floor(Math.random() * 16);
          context.putImageData(pixels, 0, 0);
        }
        transfer.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], spec.name, { type: 'image/png' }));
      } else if ('text' in spec) {
        transfer.items.add(new File([spec.text], spec.name, { type: 'text/plain' }));
      } else {
        const bytes = new Uint8Array(spec.size);
        // Not compressible and the same on every run: a simple generator's output.
        let state = 12345;
        for (let index = 0; index < bytes.length; index++) {
          state = (state * 1103515245 + 12345) >>> 0;
          bytes[index] = state >>> 24;
        }
        transfer.items.add(new File([bytes], spec.name, { type: 'application/octet-stream' }));
      }
    }
    return transfer;
  }, files);
  await page.dispatchEvent('main', 'dragenter', { dataTransfer });
  if (expectZone) await expect(page.getByRole('status').filter({ hasText: /^Drop files to send them to Lab/ })).toBeVisible();
  await page.dispatchEvent('main', 'dragover', { dataTransfer });
  await page.dispatchEvent('main', 'drop', { dataTransfer });
  await expect(page.getByRole('status').filter({ hasText: /^Drop files/ })).toHaveCount(0);
  for (const file of files) await expect(page.getByRole('list', { name: 'Files to send' }).getByRole('button', { name: `Remove ${file.name}` })).toBeVisible();
}

/** The same fixed pattern as dropFiles makes, hashed: what a download must give back. */
export function patternSha256(size: number): string {
  const bytes = Buffer.alloc(size);
  let state = 12345;
  for (let index = 0; index < size; index++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[index] = state >>> 24;
  }
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes the caption and sends it with the attached files. */
export async function captionAndSend(page: Page, caption: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(caption);
  await box.press('Enter');
  await expect(page.getByRole('list', { name: 'Files to send' })).toHaveCount(0);
}
