/**
 * Session tokens sealed with Electron's safeStorage (macOS Keychain, Windows DPAPI, Linux
 * libsecret or kwallet). Linux without a keyring offers only 'basic_text', a fixed key that
 * protects nothing: the 0600 file is then all there is, and saying so is more honest.
 */
import { safeStorage } from 'electron';
import type { TokenSealer } from '../core/profile-files.js';

export function osTokenSealer(): TokenSealer | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return undefined;
  return {
    seal: (token) => safeStorage.encryptString(token).toString('base64'),
    open: (sealed) => safeStorage.decryptString(Buffer.from(sealed, 'base64')),
  };
}
