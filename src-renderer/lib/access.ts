/** Form logic for room access: the Host form's "Who can join" choice and the password forms. */
import type { HostAdminAction, HostRequest, JoinRequest } from '../../src-shared/api.js';
import type { AccessMode } from '../../src-shared/protocol/limits.js';

/** i18n keys (under access.) of what is wrong with a form. */
export type AccessFormProblem = 'passphraseMissing' | 'passwordEmpty' | 'passwordsDiffer';

/** The Host form's "Who can join" choice: a mode, or 'saved' for the mode the room had last time. */
export type AccessChoice = AccessMode | 'saved';

/**
 * The access fields of a host request, or what is missing. 'saved' sends no mode, so the
 * server keeps the one it saved; the passphrase only goes with the passphrase mode.
 */
export function hostAccess(
  access: AccessChoice,
  passphrase: string,
): { ok: true; fields: Pick<HostRequest, 'access' | 'passphrase'> } | { ok: false; problem: AccessFormProblem } {
  if (access === 'saved') return { ok: true, fields: {} };
  if (access !== 'passphrase') return { ok: true, fields: { access } };
  if (passphrase.trim() === '') return { ok: false, problem: 'passphraseMissing' };
  return { ok: true, fields: { access, passphrase } };
}

/** The optional passphrase of a join request: sent only when one was typed. */
export function joinPassphrase(passphrase: string): { passphrase?: string } {
  return passphrase === '' ? {} : { passphrase };
}

/**
 * What a join adds once the user confirmed that a look-alike (LOOKALIKE_ROOM) is another room: the
 * confirmation holds for the certificate it showed, or, without TLS, with the consent already given.
 */
export function differentRoom(presented: string | null): Pick<JoinRequest, 'acceptFingerprint' | 'allowUnencrypted' | 'differentRoom'> {
  return { differentRoom: true, ...(presented === null ? { allowUnencrypted: true } : { acceptFingerprint: presented }) };
}

/** Checks the new password and its repetition before anything is sent. */
export function checkNewPassword(password: string, repeated: string): AccessFormProblem | null {
  if (password === '') return 'passwordEmpty';
  if (password !== repeated) return 'passwordsDiffer';
  return null;
}

/** Host and port of an "address:port" or "[v6]:port" text (as "Copy address" gives it), or null. */
export function splitAddress(text: string): { host: string; port: number } | null {
  const found = /^\[([^\]\s]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\s[\]]+):(\d{1,5})$/.exec(text);
  if (!found) return null;
  const port = Number(found[2]);
  return port <= 65535 ? { host: found[1]!, port } : null;
}

/** The IP address of an "address:port" or "[v6]:port" connection address. */
export function addressWithoutPort(address: string): string {
  return splitAddress(address)?.host ?? address;
}

/** The host panel's buttons for one connected user, each with the action it runs. */
export function userActions(name: string, muted: boolean): { key: 'kick' | 'ban' | 'mute' | 'unmute'; action: HostAdminAction }[] {
  return [
    { key: 'kick', action: { kind: 'kick', user: name } },
    { key: 'ban', action: { kind: 'ban', user: name } },
    muted ? { key: 'unmute', action: { kind: 'unmute', user: name } } : { key: 'mute', action: { kind: 'mute', user: name } },
  ];
}
