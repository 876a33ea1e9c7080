/**
 * The private keys of this device's key packages (docs/PROTOCOL.md §20.3), kept from before the host has a
 * package until a welcome uses it or this device's own claim spends it. A package claimed and never used
 * (a commit that lost its epoch, a member who means harm) would be kept for ever: only the newest KEPT are,
 * as a welcome comes moments after its claim. A last-resort package is never spent (the host may give it to
 * several); each upload brings a new one, so the one the host holds is always the newest kept.
 */
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
}

export class KeyPackageKeys {
  private readonly bundles: KeyPackageBundle[] = [];
  private readonly lastResorts = new WeakSet<KeyPackageBundle>();

  get size(): number {
    return this.bundles.length;
  }

  /** Keeps new packages' keys (before uploading them: a welcome may use one as soon as the host has it). */
  add(made: readonly KeyPackageBundle[], lastResort?: KeyPackageBundle): void {
    this.bundles.push(...made);
    if (lastResort !== undefined) {
      this.bundles.push(lastResort);
      this.lastResorts.add(lastResort);
    }
    this.bundles.splice(0, Math.max(0, this.bundles.length - KEPT));
  }

  /** Forgets the package with these bytes, unless it is a last-resort one: it was spent. */
  spend(encoded: Uint8Array): void {
    const index = this.bundles.findIndex((bundle) => Buffer.from(bundle.encoded).equals(encoded));
    if (index >= 0 && !this.lastResorts.has(this.bundles[index]!)) this.bundles.splice(index, 1);
  }

  /** The package a welcome was made for, if it is one of these. */
  welcomed(welcome: Uint8Array): Promise<KeyPackageBundle | undefined> {
    return welcomedBundle(this.bundles, welcome);
  }

  save(): SavedKeyPackage[] {
    return this.bundles.map((bundle) => ({
      encoded: base64(bundle.encoded),
      initPrivateKey: base64(bundle.privateKeys.initPrivateKey),
      hpkePrivateKey: base64(bundle.privateKeys.hpkePrivateKey),
      signaturePrivateKey: base64(bundle.privateKeys.signaturePrivateKey),
      ...(this.lastResorts.has(bundle) ? { lastResort: true as const } : {}),
    }));
  }

  restore(saved: readonly SavedKeyPackage[]): void {
    for (const kept of saved) {
      const privateKeys = { initPrivateKey: bytes(kept.initPrivateKey), hpkePrivateKey: bytes(kept.hpkePrivateKey), signaturePrivateKey: bytes(kept.signaturePrivateKey) };
      const bundle = loadKeyPackage(bytes(kept.encoded), privateKeys);
      this.bundles.push(bundle);
      if (kept.lastResort) this.lastResorts.add(bundle);
    }
  }
}
