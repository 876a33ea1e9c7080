import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ELECTRON = { name: 'electron', message: 'Electron is imported only under src-main/electron/.' };

/**
 * One layer of the code: its files may not import the named folders of src-main
 * (relative imports, from any depth). Tests and a folder's testing.ts (what its tests start) are
 * exempt: they assemble layers on purpose.
 */
function zone(files, forbidden, why, extra = {}) {
  return {
    files,
    ignores: ['**/*.test.ts', '**/*.test.tsx', '**/testing.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON, ...(extra.paths ?? [])],
          patterns: [
            ...(forbidden.length > 0 ? [{ regex: `^(\\.\\./)+(${forbidden.join('|')})/`, message: why }] : []),
            ...(extra.patterns ?? []),
          ],
        },
      ],
    },
  };
}

const NO_NODE = { group: ['node:*'], message: 'Shared and renderer code must not use Node modules.' };
const NO_MAIN = { regex: '(^|/)src-main/', message: 'The renderer reaches the core only through the App API.' };
const MAIN_DIRS = ['crypto', 'net', 'store', 'server', 'client', 'core', 'cli', 'web', 'electron', 'testing'];
const except = (...allowed) => MAIN_DIRS.filter((dir) => !allowed.includes(dir));

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'dist-main', 'dist-renderer', 'release', 'test-results', 'playwright-report', '.e2e-bundle'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // Process boundaries: only src-main/electron may import Electron.
    files: ['src-shared/**/*.ts', 'src-renderer/**/*.{ts,tsx}', 'src-main/**/*.ts', 'e2e/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON] }] },
  },
  // The layers, bottom up: shared ← net ← store ← server; net ← client; crypto ← server, client; core (hosting and joining) ← the shells.
  zone(['src-shared/**/*.ts'], [], '', { patterns: [NO_NODE, { regex: '(^|/)(src-main|src-renderer)/', message: 'src-shared is the bottom layer.' }] }),
  zone(['src-shared/protocol/{conversation,names,limits}.ts'], [], '', {
    paths: [{ name: 'zod', message: 'The renderer imports this file: keep it free of zod.' }],
    patterns: [NO_NODE, { regex: '^\\./(?!conversation|names|limits)', message: 'The renderer imports this file: only the other zod-free helpers.' }],
  }),
  zone(['src-main/crypto/**/*.ts'], except('crypto'), 'End-to-end encryption wraps its library and knows nothing of the room above it.'),
  zone(['src-main/net/**/*.ts'], except('net'), 'net frames bytes for everyone above it and knows nothing of them.'),
  zone(['src-main/store/**/*.ts'], except('store'), 'The store knows only the database and the shared types.'),
  zone(['src-main/server/**/*.ts'], except('server', 'net', 'store', 'crypto'), 'The server runs on net and store (and reads MLS envelopes); clients and the app are above it.'),
  zone(['src-main/client/**/*.ts'], except('client', 'net', 'crypto'), 'The client runs on net, and on crypto for end-to-end encryption.'),
  zone(['src-main/core/**/*.ts'], ['cli', 'web', 'electron', 'testing'], 'The core is what the shells share; it never reaches into one.'),
  zone(['src-main/cli/**/*.ts'], ['web', 'electron', 'testing'], 'The shells are side by side, not on top of each other.'),
  zone(['src-main/web/**/*.ts'], ['cli', 'electron', 'server', 'store', 'client', 'net', 'testing'], 'The browser shell carries App API calls to the core.'),
  {
    // The one zone that may import Electron.
    files: ['src-main/electron/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(cli|web|server|store|client|net|testing)/', message: 'The Electron shell carries App API calls to the core.' }] },
      ],
    },
  },
  {
    // Each slice adds itself to AppState with an interface that only extends it (src-renderer/store/types.ts).
    files: ['src-renderer/store/*.ts'],
    rules: { '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }] },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON, { name: 'zod', message: 'The renderer bundle stays free of zod.' }],
          patterns: [
            NO_NODE,
            NO_MAIN,
            {
              regex: 'src-shared/(api-schema|text|protocol/(objects|requests|pushes|errors|json-schema))\\.js$',
              allowTypeImports: true,
              message: 'Only types from here: its values bring zod (or the look-alike tables) into the renderer bundle. Use protocol/conversation, names or limits.',
            },
          ],
        },
      ],
    },
  },
);
