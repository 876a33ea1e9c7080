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
  private pins = new Map<string, Pin>();

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
    this.replaceWith(new Map(this.pins).set(server, pin));
  }

  /** Every server with its pin, by server key. */
  entries(): [string, Pin][] {
    return [...this.pins];
  }

  /** Forgets the server's pin; false when there was none. */
  delete(server: string): boolean {
    if (!this.pins.has(server)) return false;
    const kept = new Map(this.pins);
    kept.delete(server);
    this.replaceWith(kept);
    return true;
  }

  /** Written first: a pin file that could not be written leaves the pins as they were. */
  private replaceWith(pins: Map<string, Pin>): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeAtomically(this.file, Object.fromEntries(pins), 0o600);
    this.pins = pins;
  }
}
