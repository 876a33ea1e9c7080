/**
 * The private keys of this device's key packages (docs/PROTOCOL.md §20.3), kept from before the host has a
 * package until a welcome uses it or this device's own claim spends it. A package claimed and never used
 * (a commit that lost its epoch, a member who means harm) would be kept for ever: only the newest KEPT are,
 * as a welcome comes moments after its claim. A last-resort package is never spent (the host may give it to
 * several); each upload brings a new one, so the one the host holds is always the newest kept. It remembers
 * the welcomes it opened instead: a welcome opens once, as with any other package, or one fetched again (a
 * catch-up from an older cursor, a host replaying it) would take its group back to the epoch it was made in.
 */
import { createHash } from 'node:crypto';
import { E2EE_LIMITS } from '../../src-shared/protocol/e2ee.js';
import { type KeyPackageBundle, loadKeyPackage, welcomedBundle } from '../crypto/mls.js';
import { base64, bytes } from './e2ee-devices.js';

/** Ten times what the host holds of the device. */
export const KEPT = 10 * E2EE_LIMITS.keepKeyPackages;

export interface SavedKeyPackage {
  encoded: string;
  initPrivateKey: string;
  hpkePrivateKey: string;
  signaturePrivateKey: string;
  lastResort?: true;
  /** A last-resort package's: the digests of the welcomes it opened. */
  opened?: string[];
}

const digest = (welcome: Uint8Array): string => createHash('sha256').update(welcome).digest('base64');

export class KeyPackageKeys {
  private readonly bundles: KeyPackageBundle[] = [];
  /** The last-resort packages among them, each with the digests of the welcomes it opened. */
  private readonly lastResorts = new WeakMap<KeyPackageBundle, Set<string>>();

  get size(): number {
    return this.bundles.length;
  }

  /** Keeps new packages' keys (before uploading them: a welcome may use one as soon as the host has it). */
  add(made: readonly KeyPackageBundle[], lastResort?: KeyPackageBundle): void {
    this.bundles.push(...made);
    if (lastResort !== undefined) {
      this.bundles.push(lastResort);
      this.lastResorts.set(lastResort, new Set());
    }
    this.bundles.splice(0, Math.max(0, this.bundles.length - KEPT));
  }

  /** Forgets the package with these bytes, spent (by `welcome`, when one opened): a last-resort one remembers that welcome instead. */
  spend(encoded: Uint8Array, welcome?: Uint8Array): void {
    const index = this.bundles.findIndex((bundle) => Buffer.from(bundle.encoded).equals(encoded));
    if (index < 0) return;
    const opened = this.lastResorts.get(this.bundles[index]!);
    if (opened === undefined) this.bundles.splice(index, 1);
    else if (welcome !== undefined) opened.add(digest(welcome));
  }

  /** The package a welcome was made for, if it is one of these and has not opened it before. */
  welcomed(welcome: Uint8Array): Promise<KeyPackageBundle | undefined> {
    const seen = digest(welcome);
    return welcomedBundle(
      this.bundles.filter((bundle) => !this.lastResorts.get(bundle)?.has(seen)),
      welcome,
    );
  }

  save(): SavedKeyPackage[] {
    return this.bundles.map((bundle) => {
      const opened = this.lastResorts.get(bundle);
      return {
        encoded: base64(bundle.encoded),
        initPrivateKey: base64(bundle.privateKeys.initPrivateKey),
        hpkePrivateKey: base64(bundle.privateKeys.hpkePrivateKey),
        signaturePrivateKey: base64(bundle.privateKeys.signaturePrivateKey),
        ...(opened && { lastResort: true as const, opened: [...opened] }),
      };
    });
  }

  restore(saved: readonly SavedKeyPackage[]): void {
    for (const kept of saved) {
      const privateKeys = { initPrivateKey: bytes(kept.initPrivateKey), hpkePrivateKey: bytes(kept.hpkePrivateKey), signaturePrivateKey: bytes(kept.signaturePrivateKey) };
      const bundle = loadKeyPackage(bytes(kept.encoded), privateKeys);
      this.bundles.push(bundle);
      if (kept.lastResort) this.lastResorts.set(bundle, new Set(kept.opened));
    }
  }
}
