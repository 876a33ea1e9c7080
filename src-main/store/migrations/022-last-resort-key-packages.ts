/**
 * A device's last-resort key package (docs/PROTOCOL.md §20.3, RFC 9420 §16.8): handed out when the device has
 * no other left, and never taken, so that claims nobody used (while its app is away) cannot leave it out of
 * groups. The device replaces it when it uploads more.
 */
import type { Migration } from './migration.js';

export default {
  version: 22,
  name: '022-last-resort-key-packages',
  sqlite: `ALTER TABLE mls_devices ADD COLUMN last_resort BLOB;`,
  postgres: `ALTER TABLE mls_devices ADD COLUMN last_resort bytea;`,
} satisfies Migration;
