/** `npm run screenshots`: the spec that writes docs/screenshots/ (not part of `npm test`). */
import { defineConfig } from '@playwright/test';
import base from './playwright.config.js';

export default defineConfig({
  ...base,
  testMatch: 'screenshots.shots.ts',
  timeout: 600_000,
});
