import { describe, expect, it } from 'vitest';
import written from '../../docs/protocol.schema.json' with { type: 'json' };
import { protocolJsonSchema } from './json-schema.js';

describe('docs/protocol.schema.json', () => {
  it('is what the zod tables say now (run `npm run schema` after changing them)', () => {
    expect(written).toEqual(protocolJsonSchema());
  });

  it('names every request with its params and result, every push, and the shared objects once', () => {
    const defs = Object.keys(protocolJsonSchema().$defs as object);
    expect(defs).toEqual(expect.arrayContaining(['request.login', 'result.login', 'push.message', 'push.bye', 'ChatMessage', 'WireError']));
    expect(JSON.stringify(protocolJsonSchema().$defs)).toContain('"$ref":"#/$defs/ChatMessage"');
  });
});
