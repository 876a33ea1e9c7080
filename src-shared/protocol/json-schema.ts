/**
 * The protocol as one JSON Schema document (docs/protocol.schema.json), generated
 * from the zod tables so that it cannot drift from what the code checks.
 * Regenerate with `npm run schema`; a test fails while the file is stale.
 */
import { z } from 'zod';
import { wireError } from './errors.js';
import { callInfo, callSignal } from './calls.js';
import { PROTOCOL_VERSION } from './limits.js';
import { attachment, chatMessage, contact, conversationKey, fileInfo, groupInfo, target, userInfo } from './objects.js';
import { presenceBefore12, pushes } from './pushes.js';
import { requests } from './requests.js';
import { transferOpeners, transferResults, uploadedFrame } from './transfer.js';

export function protocolJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  // Shared objects get a name of their own, and every use of them becomes a $ref.
  const shared = { ChatMessage: chatMessage, UserInfo: userInfo, Contact: contact, GroupInfo: groupInfo, Target: target, WireError: wireError };
  for (const [id, schema] of Object.entries(shared)) registry.add(schema, { id });
  registry.add(conversationKey, { id: 'ConversationKey' });
  // calls (issue 39, §21)
  registry.add(callInfo, { id: 'CallInfo' });
  registry.add(callSignal, { id: 'CallSignal' });
  for (const [type, { params, result }] of Object.entries(requests)) {
    registry.add(params, { id: `request.${type}` });
    registry.add(result, { id: `result.${type}` });
  }
  for (const [type, schema] of Object.entries(pushes)) registry.add(schema, { id: `push.${type}` });
  registry.add(presenceBefore12, { id: 'push.presence.1.0' });
  // files (issue 13): the frames of a transfer connection (§18)
  registry.add(fileInfo, { id: 'FileInfo' });
  registry.add(attachment, { id: 'Attachment' });
  for (const [type, schema] of Object.entries(transferOpeners)) registry.add(schema, { id: `transfer.${type}` });
  for (const [type, schema] of Object.entries(transferResults)) registry.add(schema, { id: `transferResult.${type}` });
  registry.add(uploadedFrame, { id: 'transfer.uploaded' });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/$defs/${id}`, unrepresentable: 'any' });
  const defs = Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _draft, $id: _id, id: _name, ...rest } = schema;
      return [id, rest];
    }),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `LanChat wire protocol ${PROTOCOL_VERSION}`,
    description:
      'Generated from src-shared/protocol/ (npm run schema); docs/PROTOCOL.md is the prose. A request frame is ' +
      '{"type": <request type>, "id": <integer>} plus the fields of request.<type>; its response is ' +
      '{"type":"res","id":<same>,"ok":true,"result":<result.<type>>} or {"type":"res","id":<same>,"ok":false,"error":<WireError>}. ' +
      'Pushes are push.<type>; a client that said 1.0 or 1.1 in hello gets push.presence.1.0 instead of push.presence. A transfer connection (PROTOCOL.md §18) opens with transfer.upload or transfer.download, ' +
      'answered like a request with transferResult.<type>; an upload ends with transfer.uploaded.',
    $defs: defs,
  };
}
