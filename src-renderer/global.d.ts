import type { AppApi } from '../src-shared/api.js';

declare global {
  interface Window {
    /** The App API, exposed by the Electron preload; absent in the browser shell. */
    lanchat?: AppApi;
  }
}

export {};
