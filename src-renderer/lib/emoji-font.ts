import '@infolektuell/noto-color-emoji';

const FAMILY = 'Noto Color Emoji';

const isEmojiFace = (face: FontFace): boolean => face.family.replaceAll('"', '') === FAMILY;

/**
 * Loads every face of the bundled colour emoji font once the window first needs one: the browser starts
 * loading a face when an emoji is first laid out. Its subsets overlap (some emoji are listed in two), and
 * Chromium fetches only the first face whose unicode-range holds a character: when that face lacks the
 * glyph, the emoji stays an empty box until the others are in. They are local files, about 2 MB in all,
 * whose decoding was a fifth of a window's start: a window that shows no emoji does not load them.
 */
export function loadEmojiFont(): void {
  const fonts = document.fonts;
  // Which faces began loading is read from the set: Chromium's event lists none of them.
  const onLoading = (): void => {
    const faces = [...fonts].filter(isEmojiFace);
    if (faces.every((face) => face.status === 'unloaded')) return;
    fonts.removeEventListener('loading', onLoading);
    for (const face of faces) {
      if (face.status === 'unloaded') face.load().catch(() => undefined);
    }
  };
  fonts.addEventListener('loading', onLoading);
}
