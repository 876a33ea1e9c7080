import { describe, expect, it } from 'vitest';
import type { TransferEvent } from '../../src-shared/api.js';
import { createAppStore } from '../store/index.js';
import { fitInBox, formatSize, inlineImageBox, isInlineImage, secondsLeftParts, thumbnailUrl } from './attachments.js';
import { fileKind } from './file-kinds.js';

const file = { id: 'AbCdEfGhIjKlMnOpQrStUv', name: 'a.png', size: 10, type: 'image/png', sha256: 'a'.repeat(64) };
/** A PNG's header declaring its width and height, in base64. */
function pngHeader(width: number, height: number): string {
  const bytes = new Uint8Array(520);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  return btoa(String.fromCharCode(...bytes));
}

describe('attachments', () => {
  it('fits a picture in its box, proportions kept, never larger than itself', () => {
    expect(fitInBox(640, 480)).toEqual({ width: 320, height: 240 });
    expect(fitInBox(300, 600)).toEqual({ width: 120, height: 240 });
    expect(fitInBox(100, 50)).toEqual({ width: 100, height: 50 });
    expect(fitInBox(10_000, 1)).toEqual({ width: 320, height: 1 });
  });

  it('gives a tiny picture a framed box to see and click, drawn at its own size in it (issue 38)', () => {
    expect(inlineImageBox(1, 1)).toEqual({ width: 48, height: 48, tiny: true });
    expect(inlineImageBox(1, 1000)).toEqual({ width: 48, height: 240, tiny: true });
    expect(inlineImageBox(640, 480)).toEqual({ width: 320, height: 240, tiny: false });
  });

  it('names a file’s kind in words, by the type the host detected or else by its ending (issue 38)', () => {
    expect(fileKind('notes.txt', 'application/octet-stream')).toBe('text');
    expect(fileKind('NOTES.TXT', 'application/octet-stream')).toBe('text');
    expect(fileKind('data.csv', 'application/octet-stream')).toBe('spreadsheet');
    expect(fileKind('report', 'application/pdf')).toBe('pdf');
    expect(fileKind('a.png', 'image/png')).toBe('image');
    expect(fileKind('slides.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation')).toBe('presentation');
    expect(fileKind('backup.zip', 'application/zip')).toBe('archive');
    // The content wins over a name that claims otherwise; a name with nothing known is a plain file.
    expect(fileKind('photo.txt', 'image/jpeg')).toBe('image');
    expect(fileKind('blob', 'application/octet-stream')).toBe('file');
    expect(fileKind('.txt', 'application/octet-stream')).toBe('file');
  });

  it('shows a picture inline only with a showable type and the sender’s thumbnail and measurements', () => {
    expect(isInlineImage({ ...file, width: 2, height: 2, thumbnail: pngHeader(2, 2) })).toBe(true);
    expect(isInlineImage({ ...file, width: 2, height: 2 })).toBe(false);
    expect(isInlineImage({ ...file, type: 'image/svg+xml', width: 2, height: 2, thumbnail: pngHeader(2, 2) })).toBe(false);
  });

  it('shows no thumbnail that is not a small image, whatever an older host kept (issue 33, item 8)', () => {
    expect(isInlineImage({ ...file, width: 16383, height: 16383, thumbnail: pngHeader(16383, 16383) })).toBe(false);
    expect(isInlineImage({ ...file, width: 2, height: 2, thumbnail: 'AAAA' })).toBe(false);
    expect(isInlineImage({ ...file, width: 320, height: 320, thumbnail: pngHeader(320, 320) })).toBe(true);
  });

  it('types a thumbnail from its first bytes', () => {
    expect(thumbnailUrl('/9j/4AAQ')).toBe('data:image/jpeg;base64,/9j/4AAQ');
    expect(thumbnailUrl('iVBORw0K')).toMatch(/^data:image\/png;/);
    expect(thumbnailUrl('UklGRiQA')).toMatch(/^data:image\/webp;/);
  });

  it('writes sizes in the UI language, in units of 1024', () => {
    expect(formatSize(19, 'en')).toBe('19 bytes');
    expect(formatSize(2.5 * 1024 * 1024, 'en')).toBe('2.5 MB');
    expect(formatSize(2.5 * 1024 * 1024, 'tr')).toBe('2,5 MB');
    expect(formatSize(100 * 1024 * 1024, 'en')).toBe('100 MB');
  });

  it('says time left in seconds, then minutes, then hours', () => {
    expect(secondsLeftParts(0.2)).toEqual({ unit: 'seconds', count: 1 });
    expect(secondsLeftParts(75)).toEqual({ unit: 'seconds', count: 75 });
    expect(secondsLeftParts(600)).toEqual({ unit: 'minutes', count: 10 });
    expect(secondsLeftParts(7200)).toEqual({ unit: 'hours', count: 2 });
  });
});

describe('the files slice', () => {
  const event = (change: Partial<TransferEvent>): TransferEvent => ({ type: 'transfer', transfer: 't1', direction: 'upload', name: 'a.bin', status: 'running', ...change });

  it('keeps each transfer’s latest state, the last measurement while running, and forgets it on dismissal', () => {
    const store = createAppStore();
    const { applyTransfer } = store.getState();
    applyTransfer(event({ target: { kind: 'room' } }));
    applyTransfer(event({ progress: { bytes: 5, total: 10, bytesPerSecond: 5, secondsLeft: 1 } }));
    applyTransfer(event({}));
    expect(store.getState().transfers['t1']).toMatchObject({ status: 'running', progress: { bytes: 5 }, target: { kind: 'room' } });
    applyTransfer(event({ status: 'failed', error: { code: 'STORAGE_FULL', message: 'full' } }));
    expect(store.getState().transfers['t1']).toMatchObject({ status: 'failed', progress: undefined, error: { code: 'STORAGE_FULL' } });
    store.getState().dismissTransfer('t1');
    expect(store.getState().transfers).toEqual({});
  });

  it('keeps one row for a file from Send to the end: the page’s handover, then the app’s upload (issue 38)', () => {
    const store = createAppStore();
    const state = () => store.getState();
    state().startHandover([{ id: 'row', name: 'big.bin', size: 100, target: { kind: 'room' } }]);
    expect(state().transfers['row']).toMatchObject({ handover: true, status: 'running', progress: { bytes: 0, total: 100 } });
    state().handoverProgress('row', 40);
    expect(state().transfers['row']?.progress?.bytes).toBe(40);
    // The app's first event comes before its answer to sendFiles: folded into the row once the answer names it.
    state().applyTransfer(event({ progress: { bytes: 1, total: 100, bytesPerSecond: 0, secondsLeft: null } }));
    state().adoptTransfers([['row', 't1']]);
    expect(Object.keys(state().transfers)).toEqual(['row']);
    expect(state().transfers['row']).toMatchObject({ appId: 't1', progress: { bytes: 1 } });
    expect(state().transfers['row']?.handover).toBeUndefined();
    state().applyTransfer(event({ progress: { bytes: 60, total: 100, bytesPerSecond: 10, secondsLeft: 4 } }));
    expect(state().transfers['row']).toMatchObject({ id: 'row', appId: 't1', progress: { bytes: 60 } });
    state().dismissTransfer('row');
    expect(state().transfers).toEqual({});
    expect(state().rowOf).toEqual({});
  });

  it('says a handover cancelled before the app had the file is cancelled', () => {
    const store = createAppStore();
    store.getState().startHandover([{ id: 'row', name: 'big.bin', size: 100, target: { kind: 'room' } }]);
    store.getState().endHandover(['row'], 'cancelled');
    expect(store.getState().transfers['row']).toMatchObject({ status: 'cancelled', progress: undefined });
  });
});
