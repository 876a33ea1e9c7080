/**
 * What a thumbnail must be (PROTOCOL.md §18.6): a PNG, JPEG or WebP image of at most
 * LIMITS.maxThumbnailSide pixels a side. Read from its header (image-size), never decoded: a page
 * draws every thumbnail it shows, and one of 520 bytes declaring 16383×16383 pixels cost it over a
 * gigabyte. The host refuses others; the app shows none that breaks this (an older host kept it).
 */
import { imageSize } from 'image-size';
import { LIMITS } from './protocol/limits.js';

const THUMBNAIL_TYPES = new Set(['png', 'jpg', 'webp']);

/** Why a thumbnail (base64) is not one, or null when it is. */
export function thumbnailProblem(base64: string): string | null {
  const side = LIMITS.maxThumbnailSide;
  const wanted = `a PNG, JPEG or WebP image of at most ${side}×${side} pixels`;
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(Uint8Array.from(atob(base64), (char) => char.charCodeAt(0)));
  } catch {
    return `not ${wanted}`;
  }
  if (size.type === undefined || !THUMBNAIL_TYPES.has(size.type)) return `not ${wanted}`;
  if (!(size.width >= 1 && size.height >= 1 && size.width <= side && size.height <= side)) {
    return `${size.width}×${size.height} pixels: it must be ${wanted}`;
  }
  return null;
}
