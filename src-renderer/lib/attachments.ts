/** Images and files in messages: the sender's thumbnail, the space an image takes, and how a transfer is described. */
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { Attachment } from '../../src-shared/protocol/objects.js';
import { isShowableImage } from '../../src-shared/risky-files.js';
import { thumbnailProblem } from '../../src-shared/thumbnails.js';

/** The box an inline image is drawn in, at most; its own proportions are kept inside it. */
export const INLINE_IMAGE_BOX = { width: 320, height: 240 };

/** Thumbnails are made at these longest sides, from large to small, until one fits the protocol's size. */
const THUMBNAIL_SIDES = [LIMITS.maxThumbnailSide, 240, 160, 128, 96, 64, 40];
const THUMBNAIL_QUALITY = 0.7;

/** An image shown inline: a showable type with the sender's thumbnail (a small image) and measurements. */
export type InlineImage = Attachment & { width: number; height: number; thumbnail: string };

export function isInlineImage(file: Attachment): file is InlineImage {
  return (
    isShowableImage(file.type) &&
    file.thumbnail !== undefined &&
    file.width !== undefined &&
    file.height !== undefined &&
    thumbnailProblem(file.thumbnail) === null
  );
}

/** The size an image is drawn at inside a box: never larger than itself, proportions kept, whole pixels. */
export function fitInBox(width: number, height: number, box: { width: number; height: number } = INLINE_IMAGE_BOX): { width: number; height: number } {
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** An inline picture's box is never smaller than this on a side: a 1×1 px picture still shows a frame to see and click. */
export const LEAST_IMAGE_SIDE = 48;

/** The framed box an inline picture takes, and whether the picture is smaller than it (drawn at its own size, centred). */
export function inlineImageBox(width: number, height: number): { width: number; height: number; tiny: boolean } {
  const size = fitInBox(width, height);
  const tiny = size.width < LEAST_IMAGE_SIDE || size.height < LEAST_IMAGE_SIDE;
  return { width: Math.max(LEAST_IMAGE_SIDE, size.width), height: Math.max(LEAST_IMAGE_SIDE, size.height), tiny };
}

/** A thumbnail's data: URL, typed from its first bytes (the sender may have made a JPEG, PNG or WebP). */
export function thumbnailUrl(thumbnail: string): string {
  const type = thumbnail.startsWith('/9j/') ? 'image/jpeg' : thumbnail.startsWith('iVBOR') ? 'image/png' : 'image/webp';
  return `data:${type};base64,${thumbnail}`;
}

/**
 * An image's measurements and a small thumbnail, made here because the host never decodes
 * images. Null for what this browser cannot decode as an image.
 */
export async function describeImage(file: File): Promise<{ width: number; height: number; thumbnail?: string } | null> {
  if (!file.type.startsWith('image/')) return null;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  try {
    const { width, height } = bitmap;
    for (const side of THUMBNAIL_SIDES) {
      const size = fitInBox(width, height, { width: side, height: side });
      const canvas = document.createElement('canvas');
      canvas.width = size.width;
      canvas.height = size.height;
      const context = canvas.getContext('2d');
      if (context === null) return null;
      context.drawImage(bitmap, 0, 0, size.width, size.height);
      const dataUrl = canvas.toDataURL('image/webp', THUMBNAIL_QUALITY);
      const thumbnail = dataUrl.slice(dataUrl.indexOf(',') + 1);
      if (thumbnail.length <= LIMITS.maxThumbnailLength) return { width, height, thumbnail };
    }
    return { width, height };
  } finally {
    bitmap.close();
  }
}

/** A file's bytes in base64, for one that has no path (a pasted image in the desktop app). */
export async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let start = 0; start < bytes.length; start += 0x8000) binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

const SIZE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** A size in the UI language, in units of 1024 like the host's messages: "2.5 MB", "2,5 MB", "512 byte". */
export function formatSize(bytes: number, language: string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit > 0 && value < 10 ? 1 : 0;
  // "19 bytes", "19 bayt"; the larger units are abbreviated ("2.5 MB").
  const unitDisplay = unit === 0 ? 'long' : 'short';
  return new Intl.NumberFormat(language, { style: 'unit', unit: SIZE_UNITS[unit], unitDisplay, maximumFractionDigits: digits }).format(value);
}

/** Time left is whole seconds, then minutes, then hours. */
export function secondsLeftParts(seconds: number): { unit: 'seconds' | 'minutes' | 'hours'; count: number } {
  if (seconds < 90) return { unit: 'seconds', count: Math.max(1, Math.round(seconds)) };
  if (seconds < 90 * 60) return { unit: 'minutes', count: Math.round(seconds / 60) };
  return { unit: 'hours', count: Math.round(seconds / 3600) };
}
