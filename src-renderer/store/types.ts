import type { StateCreator } from 'zustand/vanilla';

/**
 * The whole store. Each slice's file adds its slice to this interface (`declare module './types.js'`,
 * TypeScript's declaration merging), so this file, which every slice imports, imports none of them;
 * index.ts puts the slices together, and the compiler checks that they make up all of it.
 */
export interface AppState {
  /** Forgets everything learnt about the room (after leaving it or switching rooms or users). */
  resetRoom(): void;
}

/** Each slice sees the whole store (zustand's slices pattern) and returns its own part. */
export type SliceCreator<Slice> = StateCreator<AppState, [], [], Slice>;
