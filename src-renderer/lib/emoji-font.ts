import '@infolektuell/noto-color-emoji';

const FAMILY = 'Noto Color Emoji';

/**
 * Loads every face of the bundled colour emoji font once the page's styles are in. Its
 * subsets overlap (some emoji are listed in two), and Chromium fetches only the first face
 * whose unicode-range holds a character: when that face lacks the glyph, the emoji stays an
 * empty box. They are local files, about 2 MB in all.
 */
export function loadEmojiFont(): void {
  void document.fonts.ready.then(() => {
    for (const face of document.fonts) {
      if (face.family.replaceAll('"', '') === FAMILY && face.status === 'unloaded') face.load().catch(() => undefined);
    }
  });
}
