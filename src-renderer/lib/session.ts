import type { SessionView } from '../../src-shared/api.js';

/** The session of a window that is in no room. */
export const OFFLINE_SESSION: SessionView = {
  status: 'offline',
  me: null,
  roomName: null,
  server: null,
  hosting: null,
  security: null,
  error: null,
};
