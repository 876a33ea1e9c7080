/**
 * The browser shell's session tokens sealed as the desktop app's are (electron/token-sealer.ts), without
 * Electron: a random key per profile, kept by the system's keyring through the system's own tool, seals
 * each token with AES-256-GCM. Linux: `secret-tool` (libsecret: GNOME Keyring, KWallet, KeePassXC), which
 * needs a Secret Service on the session's D-Bus; macOS: `security` (the login Keychain); Windows: DPAPI
 * through PowerShell (the key sealed to the user's logon, kept in the profile). No keyring (a server with
 * no desktop session): no sealer, and session.json is readable only by its user, as the desktop app's is
 * on such a Linux. The key never passes on a command line, where other users could read it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { type TokenSealer, readJson, writeAtomically } from '../core/profile-files.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A keyring that does not answer in this time (a locked one waiting for a prompt) is taken as none. */
const TOOL_TIMEOUT_MS = 5000;
const SERVICE = 'LanChat browser shell';

/** Where the profile's key is kept, read and written through the system's tool. */
interface KeyStore {
  read(): string | undefined;
  write(key: string): void;
}

function run(command: string, args: string[], input = ''): string {
  return execFileSync(command, args, { input, encoding: 'utf8', timeout: TOOL_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'ignore'] });
}

function secretTool(profile: string): KeyStore {
  const attributes = ['application', 'lanchat', 'profile', profile];
  return {
    read: () => run('secret-tool', ['lookup', ...attributes]).trim() || undefined,
    write: (key) => void run('secret-tool', ['store', `--label=${SERVICE} (${profile})`, ...attributes], key),
  };
}

function keychain(profile: string): KeyStore {
  const quoted = JSON.stringify(profile);
  return {
    read: () => run('security', ['find-generic-password', '-s', SERVICE, '-a', profile, '-w']).trim() || undefined,
    // Commands on standard input (security -i), so the key is in no process's arguments.
    write: (key) => void run('security', ['-i'], `add-generic-password -U -s ${JSON.stringify(SERVICE)} -a ${quoted} -w ${key}\n`),
  };
}

function dpapi(profile: string): KeyStore {
  const file = join(profile, 'token-key.dpapi');
  const transform = (method: 'Protect' | 'Unprotect', input: string): string =>
    run(
      'powershell.exe',
      [
        '-NoProfile',
        '-NonInteractive',
        '-Command',
        `Add-Type -AssemblyName System.Security; [Convert]::ToBase64String([Security.Cryptography.ProtectedData]::${method}([Convert]::FromBase64String([Console]::In.ReadToEnd().Trim()), $null, 'CurrentUser'))`,
      ],
      input,
    ).trim();
  return {
    read: () => {
      const sealed = readJson(file);
      return typeof sealed === 'string' ? transform('Unprotect', sealed) : undefined;
    },
    write: (key) => writeAtomically(file, transform('Protect', key), 0o600),
  };
}

function keyStoreFor(profile: string): KeyStore | undefined {
  if (process.platform === 'linux') return secretTool(profile);
  if (process.platform === 'darwin') return keychain(profile);
  if (process.platform === 'win32') return dpapi(profile);
  return undefined;
}

/** The profile's key from the keyring, made and stored there the first time; undefined when there is no keyring. */
function profileKey(store: KeyStore): Buffer | undefined {
  try {
    const kept = store.read();
    if (kept !== undefined) return Buffer.from(kept, 'base64');
  } catch {
    // Not found, or no keyring: writing tells which.
  }
  try {
    const key = randomBytes(KEY_BYTES).toString('base64');
    store.write(key);
    // Read back: a tool that took the key but keeps it nowhere (no Secret Service) is no keyring.
    return store.read() === key ? Buffer.from(key, 'base64') : undefined;
  } catch {
    return undefined;
  }
}

/** A sealer whose key the system's keyring keeps for this profile, or undefined when there is none. */
export function keyringTokenSealer(profileDir: string): TokenSealer | undefined {
  const store = keyStoreFor(resolve(profileDir));
  const key = store && profileKey(store);
  if (key?.length !== KEY_BYTES) return undefined;
  return {
    seal: (token) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
    },
    open: (sealed) => {
      const bytes = Buffer.from(sealed, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
