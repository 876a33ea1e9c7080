/**
 * Where a profile lives. Both shells use the same folder for the same profile
 * name, so settings and saved sessions carry over between them; separate
 * profiles let several people (or tests) run the app side by side.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_PROFILE = 'default';

/** A plain folder name: no separators, no "." or "..", nothing a file system might treat specially. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `$LANCHAT_HOME/<profile>`, or `~/.config/lanchat/profiles/<profile>`. Throws on a bad profile name. */
export function profileDirectory(profile: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!PROFILE_NAME.test(profile)) {
    throw new Error(
      `"${profile}" is not a profile name: use up to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return join(profilesRoot(env), profile);
}

function profilesRoot(env: NodeJS.ProcessEnv): string {
  return env.LANCHAT_HOME ? resolve(env.LANCHAT_HOME) : join(homedir(), '.config', 'lanchat', 'profiles');
}

/** The terminal client's host fingerprints; the leading dot keeps it apart from every profile folder. */
export function terminalPinsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(profilesRoot(env), '.terminal-pins.json');
}
