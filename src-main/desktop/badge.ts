/**
 * The unread count outside the window: taskbar/dock badge and tray. The UI already puts
 * it in the window title ("(3) LanChat"), so the main process reads it from there and
 * needs no state of its own.
 */

/** The unread count a main-window title announces; 0 without one. */
export function unreadFromTitle(title: string): number {
  const match = /^\((\d{1,9})\) /.exec(title);
  return match ? Number(match[1]) : 0;
}

/** What fits on a badge: nothing at 0, "99+" above 99. */
export function badgeText(count: number): string {
  if (count <= 0) return '';
  return count > 99 ? '99+' : String(count);
}

/**
 * A small red disc as pixels in the order of Electron's bitmaps (nativeImage toBitmap /
 * createFromBitmap: B, G, R, A; size × size × 4 bytes): the overlay on the Windows taskbar
 * button and the mark on the tray icon while something is unread.
 */
export function unreadDot(size: number): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  const centre = (size - 1) / 2;
  const radius = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Coverage of the pixel by the disc, for a smooth edge.
      const distance = Math.hypot(x - centre, y - centre);
      const alpha = Math.max(0, Math.min(1, radius - distance));
      const offset = (y * size + x) * 4;
      pixels[offset] = 0x25;
      pixels[offset + 1] = 0x30;
      pixels[offset + 2] = 0xd9;
      pixels[offset + 3] = Math.round(alpha * 255);
    }
  }
  return pixels;
}

/** The tray icon (size × size, the same pixel order) with the dot over its top-right quarter. */
export function withUnreadDot(icon: Buffer, size: number): Buffer {
  const dotSize = Math.max(4, Math.round(size / 2));
  const dot = unreadDot(dotSize);
  const result = Buffer.from(icon);
  for (let y = 0; y < dotSize; y++) {
    for (let x = 0; x < dotSize; x++) {
      const from = (y * dotSize + x) * 4;
      const to = (y * size + (size - dotSize + x)) * 4;
      const alpha = dot[from + 3]! / 255;
      for (let channel = 0; channel < 3; channel++) {
        result[to + channel] = Math.round(dot[from + channel]! * alpha + result[to + channel]! * (1 - alpha));
      }
      result[to + 3] = Math.max(result[to + 3]!, dot[from + 3]!);
    }
  }
  return result;
}
