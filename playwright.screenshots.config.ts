/** `npm run screenshots`: the specs (*.shots.ts) that write docs/screenshots/ (not part of `npm test`). */
import { defineConfig } from '@playwright/test';
import base from './playwright.config.js';

export default defineConfig({
  ...base,
  testMatch: '*.shots.ts',
  timeout: 600_000,
});
