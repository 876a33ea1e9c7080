/**
 * No import circles (issue 34): files that import each other in a loop, type-only imports included,
 * have no bottom layer to read or test first. `npm run lint` runs this over src-main, src-shared and
 * src-renderer; src-main/testing/circles.test.ts proves it fails on a new circle.
 */

/**
 * The circles the store still has: its rewrite (issue 34, "the store written once") removes them, and
 * this list goes with it. Each entry is exactly the files of one circle today: a circle through any
 * other file still fails.
 */
const KNOWN_CIRCLES = [
  ['src-main/store/files.ts', 'src-main/store/rows.ts', 'src-main/store/types.ts'],
  ['src-main/store/open.ts', 'src-main/store/search-index.ts'],
];

const exactly = (files) => files.map((file) => `^${file.replaceAll('.', '\\.')}$`).join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Shared errors, contexts and types go in a module of their own that both sides import.',
      from: { pathNot: exactly(KNOWN_CIRCLES.flat()) },
      to: { circular: true },
    },
    ...KNOWN_CIRCLES.map((files) => ({
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle through a file of a known circle and beyond it.',
      from: { path: exactly(files) },
      to: { circular: true, via: { pathNot: exactly(files) } },
    })),
  ],
  options: {
    // Type-only imports count: `import type` makes a circle as much as any other import.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
