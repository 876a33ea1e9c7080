/**
 * Host certificate pins, trust on first use: the fingerprint each server
 * ("host:port") presented the first time, or "unencrypted" for a host the user
 * agreed to join without TLS. The app keeps one file per profile, the terminal
 * client its own.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readJson, writeAtomically } from './profile-files.js';

export const UNENCRYPTED = 'unencrypted';
/** A certificate fingerprint, or UNENCRYPTED. */
export type Pin = string;

/** How pins and saved sessions name a server. */
export function serverKey(server: { host: string; port: number }): string {
  return `${server.host.toLowerCase()}:${server.port}`;
}

export class PinFile {
  private readonly pins = new Map<string, Pin>();

  constructor(readonly file: string) {
    const stored = readJson(file);
    if (typeof stored !== 'object' || stored === null) return;
    for (const [server, pin] of Object.entries(stored)) if (typeof pin === 'string') this.pins.set(server, pin);
  }

  get(server: string): Pin | undefined {
    return this.pins.get(server);
  }

  set(server: string, pin: Pin): void {
    if (this.pins.get(server) === pin) return;
    this.pins.set(server, pin);
    this.write();
  }

  /** Every server with its pin, by server key. */
  entries(): [string, Pin][] {
    return [...this.pins];
  }

  /** Forgets the server's pin; false when there was none. */
  delete(server: string): boolean {
    if (!this.pins.delete(server)) return false;
    this.write();
    return true;
  }

  private write(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeAtomically(this.file, Object.fromEntries(this.pins), 0o600);
  }
}
