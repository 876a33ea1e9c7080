/**
 * Draws the app icon, build/icon.png (512×512 RGBA): a speech bubble on a
 * rounded teal-to-blue square. Plain Node (zlib for the PNG), so the icon can be
 * regenerated anywhere: `npx tsx scripts/make-icon.ts`. electron-builder turns
 * it into the .ico and .icns it needs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
/** Samples per pixel along each axis: 4×4 samples give smooth edges. */
const SUPERSAMPLING = 4;

type Rgb = [number, number, number];
const TOP: Rgb = [20, 184, 166];
const BOTTOM: Rgb = [37, 99, 235];
const WHITE: Rgb = [255, 255, 255];

/** Signed distance from (x, y) to a rectangle with rounded corners; negative inside. */
function roundedRect(x: number, y: number, cx: number, cy: number, halfWidth: number, halfHeight: number, radius: number): number {
  const qx = Math.abs(x - cx) - halfWidth + radius;
  const qy = Math.abs(y - cy) - halfHeight + radius;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

function insideTriangle(x: number, y: number, [a, b, c]: [number, number][]): boolean {
  const side = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const d1 = side(a!, b!);
  const d2 = side(b!, c!);
  const d3 = side(c!, a!);
  return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
}

const TAIL: [number, number][] = [
  [170, 320],
  [140, 420],
  [270, 340],
];
const DOTS = [176, 256, 336].map((x) => ({ x, y: 232, radius: 26 }));

function gradient(y: number): Rgb {
  const t = y / SIZE;
  return [0, 1, 2].map((i) => TOP[i]! + (BOTTOM[i]! - TOP[i]!) * t) as Rgb;
}

/** The colour at one sample point, or null outside the icon. */
function sample(x: number, y: number): Rgb | null {
  if (roundedRect(x, y, 256, 256, 240, 240, 112) > 0) return null;
  const inBubble = roundedRect(x, y, 256, 232, 176, 128, 72) <= 0 || insideTriangle(x, y, TAIL);
  if (!inBubble) return gradient(y);
  const inDot = DOTS.some((dot) => Math.hypot(x - dot.x, y - dot.y) <= dot.radius);
  return inDot ? gradient(y) : WHITE;
}

function drawPixels(): Buffer {
  const pixels = Buffer.alloc(SIZE * SIZE * 4);
  const samples = SUPERSAMPLING * SUPERSAMPLING;
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < SUPERSAMPLING; sy++) {
        for (let sx = 0; sx < SUPERSAMPLING; sx++) {
          const colour = sample(px + (sx + 0.5) / SUPERSAMPLING, py + (sy + 0.5) / SUPERSAMPLING);
          if (!colour) continue;
          r += colour[0];
          g += colour[1];
          b += colour[2];
          covered++;
        }
      }
      const offset = (py * SIZE + px) * 4;
      if (covered > 0) {
        pixels[offset] = Math.round(r / covered);
        pixels[offset + 1] = Math.round(g / covered);
        pixels[offset + 2] = Math.round(b / covered);
        pixels[offset + 3] = Math.round((255 * covered) / samples);
      }
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

function encodePng(rgba: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  // Each row starts with its filter type; 0 (none) is enough, deflate does the work.
  const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) rgba.copy(rows, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const buildDir = fileURLToPath(new URL('../build/', import.meta.url));
mkdirSync(buildDir, { recursive: true });
writeFileSync(`${buildDir}icon.png`, encodePng(drawPixels()));
console.log(`wrote ${buildDir}icon.png`);
