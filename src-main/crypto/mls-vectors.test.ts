/**
 * ts-mls against the MLS working group's test vectors for cipher suite 1 (github.com/mlswg/mls-implementations,
 * test-vectors/, described in its test-vectors.md). The vectors live outside the project, in
 * ../shared/mls-test-vectors/ from the repository root; without that folder these tests are skipped.
 * What the package's index does not export is reached through its exports map ("./*.js"), pinned with the version.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type CiphersuiteImpl,
  type ClientState,
  decodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  makePskIndex,
  processPrivateMessage,
  processPublicMessage,
} from 'ts-mls';
import { decodeAuthenticatedContent } from 'ts-mls/authenticatedContent.js';
import { decodeCommit, encodeCommit } from 'ts-mls/commit.js';
import { determineLength } from 'ts-mls/codec/variableLength.js';
import { refhash } from 'ts-mls/crypto/hash.js';
import { decryptWithLabel, encryptWithLabel } from 'ts-mls/crypto/hpke.js';
import { deriveSecret, deriveTreeSecret, expandWithLabel } from 'ts-mls/crypto/kdf.js';
import { signWithLabel, verifyWithLabel } from 'ts-mls/crypto/signature.js';
import { verifyConfirmationTag } from 'ts-mls/framedContent.js';
import { type GroupContext, encodeGroupContext } from 'ts-mls/groupContext.js';
import { verifyGroupInfoConfirmationTag, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { defaultKeyRetentionConfig } from 'ts-mls/keyRetentionConfig.js';
import { initializeEpoch, mlsExporter } from 'ts-mls/keySchedule.js';
import { protectApplicationData, unprotectPrivateMessage } from 'ts-mls/messageProtection.js';
import { protectProposalPublic, unprotectPublicMessage } from 'ts-mls/messageProtectionPublic.js';
import { defaultPaddingConfig } from 'ts-mls/paddingConfig.js';
import { computePskSecret } from 'ts-mls/presharedkey.js';
import { decodeProposal, encodeProposal } from 'ts-mls/proposal.js';
import { createSecretTree, ratchetToGeneration } from 'ts-mls/secretTree.js';
import { type ReuseGuard, expandSenderDataKey, expandSenderDataNonce } from 'ts-mls/sender.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
import { isLeaf, left, nodeWidth, parent, right, root, sibling, toNodeIndex } from 'ts-mls/treemath.js';
import { decodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { decryptGroupInfo, decryptGroupSecrets } from 'ts-mls/welcome.js';
import { CIPHER_SUITE } from './mls.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VECTORS = path.resolve(REPO_ROOT, '../shared/mls-test-vectors');
const present = existsSync(VECTORS);

/* eslint-disable @typescript-eslint/no-explicit-any -- the vectors are JSON described in test-vectors.md, read field by field */
const load = (name: string): any[] => {
  const json = JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8'));
  return Array.isArray(json) ? json : [json];
};
const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');
/** The vectors of cipher suite 1 in a file (all of them where the file has no suite). */
const suite1 = (name: string): any[] => load(name).filter((vector) => vector.cipher_suite === undefined || vector.cipher_suite === 1);

let implementation: Promise<CiphersuiteImpl> | undefined;
const impl = (): Promise<CiphersuiteImpl> => (implementation ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE)));

function decoded<T>(value: [T, number] | undefined, what: string): T {
  if (value === undefined) throw new Error(`could not decode ${what}`);
  return value[0];
}

function groupContext(vector: any, epoch: bigint): GroupContext {
  return {
    version: 'mls10',
    cipherSuite: CIPHER_SUITE,
    groupId: bytes(vector.group_id),
    epoch,
    treeHash: bytes(vector.tree_hash),
    confirmedTranscriptHash: bytes(vector.confirmed_transcript_hash),
    extensions: [],
  };
}

describe.skipIf(!present)(`MLS test vectors, cipher suite 1${present ? '' : ` (skipped: ${VECTORS} is absent)`}`, () => {
  it('crypto-basics: RefHash, DeriveSecret, DeriveTreeSecret, ExpandWithLabel, EncryptWithLabel, SignWithLabel', async () => {
    const cs = await impl();
    const vectors = suite1('crypto-basics.json');
    expect(vectors).toHaveLength(1);
    for (const v of vectors) {
      expect(hex(await refhash(v.ref_hash.label, bytes(v.ref_hash.value), cs.hash))).toBe(v.ref_hash.out);
      expect(hex(await deriveSecret(bytes(v.derive_secret.secret), v.derive_secret.label, cs.kdf))).toBe(v.derive_secret.out);
      const tree = v.derive_tree_secret;
      expect(hex(await deriveTreeSecret(bytes(tree.secret), tree.label, tree.generation, tree.length, cs.kdf))).toBe(tree.out);
      const expand = v.expand_with_label;
      expect(hex(await expandWithLabel(bytes(expand.secret), expand.label, bytes(expand.context), expand.length, cs.kdf))).toBe(expand.out);

      const e = v.encrypt_with_label;
      const privateKey = await cs.hpke.importPrivateKey(bytes(e.priv));
      const publicKey = await cs.hpke.importPublicKey(bytes(e.pub));
      expect(hex(await decryptWithLabel(privateKey, e.label, bytes(e.context), bytes(e.kem_output), bytes(e.ciphertext), cs.hpke))).toBe(e.plaintext);
      // HPKE is randomized: what we encrypt must decrypt to the plaintext.
      const ours = await encryptWithLabel(publicKey, e.label, bytes(e.context), bytes(e.plaintext), cs.hpke);
      expect(hex(await decryptWithLabel(privateKey, e.label, bytes(e.context), ours.enc, ours.ct, cs.hpke))).toBe(e.plaintext);

      const s = v.sign_with_label;
      expect(await verifyWithLabel(bytes(s.pub), s.label, bytes(s.content), bytes(s.signature), cs.signature)).toBe(true);
      // Ed25519 is deterministic: our signature is the vector's, byte for byte.
      expect(hex(await signWithLabel(bytes(s.priv), s.label, bytes(s.content), cs.signature))).toBe(s.signature);
    }
  });

  it('tree-math: width, root, left, right, parent and sibling of every node', () => {
    const vectors = suite1('tree-math.json');
    expect(vectors).toHaveLength(10);
    for (const v of vectors) {
      expect(nodeWidth(v.n_leaves)).toBe(v.n_nodes);
      expect(root(v.n_leaves)).toBe(v.root);
      for (let x = 0; x < v.n_nodes; x++) {
        const node = toNodeIndex(x);
        // Leaves have no children, and the root has neither parent nor sibling: the vector says null there.
        expect(isLeaf(node) ? null : left(node)).toBe(v.left[x]);
        expect(isLeaf(node) ? null : right(node)).toBe(v.right[x]);
        expect(x === v.root ? null : parent(node, v.n_leaves)).toBe(v.parent[x]);
        expect(x === v.root ? null : sibling(node, v.n_leaves)).toBe(v.sibling[x]);
      }
    }
  });

  it('deserialization: the variable-length header of vectors of bytes', () => {
    const vectors = suite1('deserialization.json');
    expect(vectors).toHaveLength(14);
    for (const v of vectors) {
      const header = bytes(v.vlbytes_header);
      expect(determineLength(header)).toEqual({ length: v.length, lengthFieldSize: header.length });
    }
  });

  it('key-schedule: every secret of every epoch, the group context, external key and exporter', async () => {
    const cs = await impl();
    const vectors = suite1('key-schedule.json');
    expect(vectors).toHaveLength(1);
    for (const v of vectors) {
      let initSecret = bytes(v.initial_init_secret);
      for (const [index, epoch] of (v.epochs as any[]).entries()) {
        const context = groupContext({ ...epoch, group_id: v.group_id }, BigInt(index));
        expect(hex(encodeGroupContext(context))).toBe(epoch.group_context);
        const secrets = await initializeEpoch(initSecret, bytes(epoch.commit_secret), context, bytes(epoch.psk_secret), cs.kdf);
        const schedule = secrets.keySchedule;
        expect({
          joiner_secret: hex(secrets.joinerSecret),
          welcome_secret: hex(secrets.welcomeSecret),
          encryption_secret: hex(secrets.encryptionSecret),
          init_secret: hex(schedule.initSecret),
          sender_data_secret: hex(schedule.senderDataSecret),
          exporter_secret: hex(schedule.exporterSecret),
          external_secret: hex(schedule.externalSecret),
          confirmation_key: hex(schedule.confirmationKey),
          membership_key: hex(schedule.membershipKey),
          resumption_psk: hex(schedule.resumptionPsk),
          epoch_authenticator: hex(schedule.epochAuthenticator),
        }).toEqual({
          joiner_secret: epoch.joiner_secret,
          welcome_secret: epoch.welcome_secret,
          encryption_secret: epoch.encryption_secret,
          init_secret: epoch.init_secret,
          sender_data_secret: epoch.sender_data_secret,
          exporter_secret: epoch.exporter_secret,
          external_secret: epoch.external_secret,
          confirmation_key: epoch.confirmation_key,
          membership_key: epoch.membership_key,
          resumption_psk: epoch.resumption_psk,
          epoch_authenticator: epoch.epoch_authenticator,
        });
        const external = await cs.hpke.deriveKeyPair(schedule.externalSecret);
        expect(hex(await cs.hpke.exportPublicKey(external.publicKey))).toBe(epoch.external_pub);
        const exporter = epoch.exporter;
        expect(hex(await mlsExporter(schedule.exporterSecret, exporter.label, bytes(exporter.context), exporter.length, cs))).toBe(exporter.secret);
        initSecret = schedule.initSecret;
      }
    }
  });

  it('psk_secret: the secret from zero, one and several pre-shared keys', async () => {
    const cs = await impl();
    const vectors = suite1('psk_secret.json');
    expect(vectors.length).toBeGreaterThan(1);
    for (const v of vectors) {
      const psks = (v.psks as any[]).map((p): [{ psktype: 'external'; pskId: Uint8Array; pskNonce: Uint8Array }, Uint8Array] => [
        { psktype: 'external', pskId: bytes(p.psk_id), pskNonce: bytes(p.psk_nonce) },
        bytes(p.psk),
      ]);
      expect(hex(await computePskSecret(psks, cs))).toBe(v.psk_secret);
    }
  });

  it('secret-tree: sender data key and nonce, and the keys and nonces of each leaf and generation', async () => {
    const cs = await impl();
    const vectors = suite1('secret-tree.json');
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      const data = v.sender_data;
      expect(hex(await expandSenderDataKey(cs, bytes(data.sender_data_secret), bytes(data.ciphertext)))).toBe(data.key);
      expect(hex(await expandSenderDataNonce(cs, bytes(data.sender_data_secret), bytes(data.ciphertext)))).toBe(data.nonce);
      let tree = await createSecretTree(v.leaves.length, bytes(v.encryption_secret), cs.kdf);
      for (const [leafIndex, generations] of (v.leaves as any[][]).entries()) {
        for (const g of generations) {
          const senderData = { leafIndex, generation: g.generation, reuseGuard: new Uint8Array(4) as ReuseGuard };
          const application = await ratchetToGeneration(tree, senderData, 'application', defaultKeyRetentionConfig, cs);
          expect([application.generation, hex(application.key), hex(application.nonce)]).toEqual([g.generation, g.application_key, g.application_nonce]);
          const handshake = await ratchetToGeneration(application.newTree, senderData, 'commit', defaultKeyRetentionConfig, cs);
          expect([handshake.generation, hex(handshake.key), hex(handshake.nonce)]).toEqual([g.generation, g.handshake_key, g.handshake_nonce]);
          tree = handshake.newTree;
        }
      }
    }
  });

  it('transcript-hashes: the confirmation tag and both transcript hashes after a commit', async () => {
    const cs = await impl();
    const vectors = suite1('transcript-hashes.json');
    expect(vectors).toHaveLength(1);
    for (const v of vectors) {
      const content = decoded(decodeAuthenticatedContent(bytes(v.authenticated_content), 0), 'authenticated content');
      if (content.content.contentType !== 'commit' || content.auth.contentType !== 'commit') throw new Error('not a commit');
      const input = { wireformat: content.wireformat, content: content.content, signature: content.auth.signature };
      const confirmed = await createConfirmedHash(bytes(v.interim_transcript_hash_before), input, cs.hash);
      expect(hex(confirmed)).toBe(v.confirmed_transcript_hash_after);
      expect(await verifyConfirmationTag(bytes(v.confirmation_key), content.auth.confirmationTag, confirmed, cs.hash)).toBe(true);
      expect(hex(await createInterimHash(confirmed, content.auth.confirmationTag, cs.hash))).toBe(v.interim_transcript_hash_after);
    }
  });

  it('message-protection: the vectors\' private and public proposal, commit and application message open, and ours round-trip', async () => {
    const cs = await impl();
    const vectors = suite1('message-protection.json');
    expect(vectors).toHaveLength(1);
    for (const v of vectors) {
      const context = groupContext(v, BigInt(v.epoch));
      const signer = bytes(v.signature_pub);
      // The vectors' group has two members; the sender's key is given, not a tree.
      const unprotect = async (message: Uint8Array) => {
        const mls = decoded(decodeMlsMessage(message, 0), 'message');
        if (mls.wireformat === 'mls_private_message') {
          const tree = await createSecretTree(2, bytes(v.encryption_secret), cs.kdf);
          const result = await unprotectPrivateMessage(bytes(v.sender_data_secret), mls.privateMessage, tree, [], context, defaultKeyRetentionConfig, cs, signer);
          return result.content.content;
        }
        if (mls.wireformat === 'mls_public_message') return (await unprotectPublicMessage(bytes(v.membership_key), context, [], mls.publicMessage, cs, signer)).content;
        throw new Error(`unexpected ${mls.wireformat}`);
      };
      for (const wire of ['proposal_priv', 'proposal_pub']) {
        const content = await unprotect(bytes(v[wire]));
        expect(content.contentType === 'proposal' && hex(encodeProposal(content.proposal))).toBe(v.proposal);
      }
      for (const wire of ['commit_priv', 'commit_pub']) {
        const content = await unprotect(bytes(v[wire]));
        expect(content.contentType === 'commit' && hex(encodeCommit(content.commit))).toBe(v.commit);
      }
      const application = await unprotect(bytes(v.application_priv));
      expect(application.contentType === 'application' && hex(application.applicationData)).toBe(v.application);

      // Protecting is randomized (reuse guard, HPKE): what we protect with the vector's keys must open again.
      const proposal = decoded(decodeProposal(bytes(v.proposal), 0), 'proposal');
      const ourPublic = await protectProposalPublic(bytes(v.signature_priv), bytes(v.membership_key), context, new Uint8Array(), proposal, 1, cs);
      const reopened = (await unprotectPublicMessage(bytes(v.membership_key), context, [], ourPublic.publicMessage, cs, signer)).content;
      expect(reopened.contentType === 'proposal' && hex(encodeProposal(reopened.proposal))).toBe(v.proposal);
      const tree = await createSecretTree(2, bytes(v.encryption_secret), cs.kdf);
      const ourPrivate = await protectApplicationData(bytes(v.signature_priv), bytes(v.sender_data_secret), bytes(v.application), new Uint8Array(), context, tree, 1, defaultPaddingConfig, cs);
      const opened = await unprotectPrivateMessage(bytes(v.sender_data_secret), ourPrivate.privateMessage, tree, [], context, defaultKeyRetentionConfig, cs, signer);
      expect(opened.content.content.contentType === 'application' && hex(opened.content.content.applicationData)).toBe(v.application);
      expect(hex(encodeCommit(decoded(decodeCommit(bytes(v.commit), 0), 'commit')))).toBe(v.commit);
    }
  });

  it('welcome: the new member finds its secrets, opens the group info, and checks its tag and signature', async () => {
    const cs = await impl();
    const vectors = suite1('welcome.json');
    expect(vectors).toHaveLength(1);
    for (const v of vectors) {
      const welcome = decoded(decodeMlsMessage(bytes(v.welcome), 0), 'welcome');
      const keyPackage = decoded(decodeMlsMessage(bytes(v.key_package), 0), 'key package');
      if (welcome.wireformat !== 'mls_welcome' || keyPackage.wireformat !== 'mls_key_package') throw new Error('wrong wire formats');
      const ref = await makeKeyPackageRef(keyPackage.keyPackage, cs.hash);
      const secrets = await decryptGroupSecrets(await cs.hpke.importPrivateKey(bytes(v.init_priv)), ref, welcome.welcome, cs.hpke);
      if (secrets === undefined) throw new Error('no group secrets for this key package');
      const noPsk = new Uint8Array(cs.kdf.size);
      const info = await decryptGroupInfo(welcome.welcome, secrets.joinerSecret, noPsk, cs);
      if (info === undefined) throw new Error('could not decrypt the group info');
      expect(await verifyGroupInfoConfirmationTag(info, secrets.joinerSecret, noPsk, cs)).toBe(true);
      expect(await verifyGroupInfoSignature(info, bytes(v.signer_pub), cs.signature)).toBe(true);
    }
  });

  /** A passive client joins from the welcome and follows each epoch's proposals and commit: its epoch authenticators must be the vector's. */
  async function passiveClient(v: any): Promise<void> {
    const cs = await impl();
    const keyPackage = decoded(decodeMlsMessage(bytes(v.key_package), 0), 'key package');
    const welcome = decoded(decodeMlsMessage(bytes(v.welcome), 0), 'welcome');
    if (keyPackage.wireformat !== 'mls_key_package' || welcome.wireformat !== 'mls_welcome') throw new Error('wrong wire formats');
    const psks: Record<string, Uint8Array> = Object.fromEntries(
      (v.external_psks as any[]).map((psk) => [Buffer.from(psk.psk_id, 'hex').toString('base64'), bytes(psk.psk)]),
    );
    const privateKeys = { initPrivateKey: bytes(v.init_priv), hpkePrivateKey: bytes(v.encryption_priv), signaturePrivateKey: bytes(v.signature_priv) };
    const tree = v.ratchet_tree === null ? undefined : decoded(decodeRatchetTree(bytes(v.ratchet_tree), 0), 'ratchet tree');
    let state: ClientState = await joinGroup(welcome.welcome, keyPackage.keyPackage, privateKeys, makePskIndex(undefined, psks), cs, tree);
    expect(hex(state.keySchedule.epochAuthenticator)).toBe(v.initial_epoch_authenticator);
    for (const epoch of v.epochs as any[]) {
      for (const message of [...epoch.proposals, epoch.commit] as string[]) {
        const mls = decoded(decodeMlsMessage(bytes(message), 0), 'handshake message');
        if (mls.wireformat === 'mls_private_message') state = (await processPrivateMessage(state, mls.privateMessage, makePskIndex(state, psks), cs)).newState;
        else if (mls.wireformat === 'mls_public_message') state = (await processPublicMessage(state, mls.publicMessage, makePskIndex(state, psks), cs)).newState;
        else throw new Error(`unexpected ${mls.wireformat}`);
      }
      expect(hex(state.keySchedule.epochAuthenticator)).toBe(epoch.epoch_authenticator);
    }
  }

  it('passive-client-welcome: joining with and without the tree, with and without a pre-shared key', async () => {
    const vectors = suite1('passive-client-welcome.json');
    expect(vectors).toHaveLength(8);
    for (const v of vectors) await passiveClient(v);
  });

  it('passive-client-handling-commit: following commits with adds, removes, updates, pre-shared keys and proposals by reference', async () => {
    const vectors = suite1('passive-client-handling-commit.json');
    expect(vectors).toHaveLength(13);
    for (const v of vectors) await passiveClient(v);
  });
});
