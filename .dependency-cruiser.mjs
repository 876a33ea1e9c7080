/**
 * No import circles (issue 34): files that import each other in a loop, type-only imports included,
 * have no bottom layer to read or test first. `npm run lint` runs this over src-main, src-shared and
 * src-renderer; src-main/testing/circles.test.ts proves it fails on a new circle.
 */

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Shared errors, contexts and types go in a module of their own that both sides import.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Type-only imports count: `import type` makes a circle as much as any other import.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
