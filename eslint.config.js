import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'dist-main', 'dist-renderer', 'release', 'test-results', 'playwright-report'] },
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
    // Process boundaries: only src-main/electron may import Electron; shared code stays platform-free.
    files: ['src-shared/**/*.ts', 'src-renderer/**/*.{ts,tsx}', 'src-main/**/*.ts', 'e2e/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Electron is imported only under src-main/electron/.' }] }],
    },
  },
  {
    files: ['src-shared/**/*.ts', 'src-renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Electron is imported only under src-main/electron/.' }],
          patterns: [
            { group: ['node:*'], message: 'Shared and renderer code must not use Node modules.' },
            { group: ['**/src-main/**', '../src-main/*'], message: 'The renderer reaches the core only through the App API.' },
          ],
        },
      ],
    },
  },
);
