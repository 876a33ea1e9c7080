import type { AppTransport } from '../src-shared/api.js';

declare global {
  interface Window {
    /** The App API's transport, exposed by the Electron preload; absent in the browser shell. */
    lanchat?: AppTransport;
  }
}

export {};
