/**
 * The main window's size and position between runs (window.json in the profile), put back
 * only where it is visible: a display that was unplugged, or a resolution that shrank,
 * must not leave the window off screen.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { readJson, writeAtomically } from '../core/profile-files.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

export interface SizeLimits {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
}

const coordinate = z.number().int().min(-100_000).max(100_000);
const length = z.number().int().min(1).max(100_000);
const windowStateSchema = z.strictObject({
  bounds: z.strictObject({ x: coordinate, y: coordinate, width: length, height: length }),
  maximized: z.boolean(),
});

export class WindowStateFile {
  private readonly file: string;

  constructor(profileDir: string) {
    this.file = join(profileDir, 'window.json');
  }

  read(): WindowState | undefined {
    const stored = windowStateSchema.safeParse(readJson(this.file));
    return stored.success ? stored.data : undefined;
  }

  save(state: WindowState): void {
    writeAtomically(this.file, state, 0o600);
  }
}

function overlap(a: Rect, b: Rect): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

/**
 * Where to open the window: the saved bounds on the display they overlap most, shrunk to
 * fit its work area and moved fully onto it; without saved bounds, or when they touch no
 * display any more, the default size centred on the first (primary) display.
 */
export function placeWindow(saved: WindowState | undefined, workAreas: Rect[], limits: SizeLimits): WindowState {
  const primary = workAreas[0];
  if (!primary) {
    return { bounds: { x: 0, y: 0, width: limits.width, height: limits.height }, maximized: saved?.maximized ?? false };
  }
  const best = saved
    ? workAreas.reduce<{ area: Rect; overlap: number }>(
        (found, area) => {
          const shared = overlap(saved.bounds, area);
          return shared > found.overlap ? { area, overlap: shared } : found;
        },
        { area: primary, overlap: 0 },
      )
    : { area: primary, overlap: 0 };
  const area = best.area;
  const fit = (wanted: number, minimum: number, available: number): number => Math.min(Math.max(wanted, minimum), available);
  const width = fit(saved?.bounds.width ?? limits.width, limits.minWidth, area.width);
  const height = fit(saved?.bounds.height ?? limits.height, limits.minHeight, area.height);
  if (!saved || best.overlap === 0) {
    return {
      bounds: { x: area.x + Math.round((area.width - width) / 2), y: area.y + Math.round((area.height - height) / 2), width, height },
      maximized: saved?.maximized ?? false,
    };
  }
  const clamp = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), high);
  return {
    bounds: {
      x: clamp(saved.bounds.x, area.x, area.x + area.width - width),
      y: clamp(saved.bounds.y, area.y, area.y + area.height - height),
      width,
      height,
    },
    maximized: saved.maximized,
  };
}
