import { describe, expect, it } from 'vitest';
import { parseCall } from './api-schema.js';

describe('parseCall', () => {
  it('accepts each call with the arguments its method takes', () => {
    expect(parseCall('session', [])).toEqual({ ok: true, call: 'session', args: [] });
    expect(parseCall('history', ['group:7', 120, 50])).toEqual({ ok: true, call: 'history', args: ['group:7', 120, 50] });
    expect(parseCall('send', [{ kind: 'dm', user: 'bob' }, 'hi'])).toMatchObject({ ok: true });
    expect(parseCall('host', [{ roomName: ' Lab ', port: 0, name: 'alice', password: 'pw' }])).toMatchObject({
      ok: true,
      args: [{ roomName: 'Lab', port: 0 }],
    });
    expect(parseCall('updateSettings', [{}])).toMatchObject({ ok: true });
  });

  it('reads null as a missing optional argument, the way JSON carries undefined', () => {
    expect(parseCall('history', ['room', null, 20])).toEqual({ ok: true, call: 'history', args: ['room', undefined, 20] });
    expect(parseCall('search', ['sel', null, null])).toEqual({ ok: true, call: 'search', args: ['sel', undefined, undefined] });
    expect(parseCall('history', [null])).toMatchObject({ ok: false });
  });

  it('refuses unknown calls, wrong shapes, extra arguments and unknown fields, saying where', () => {
    const refusals = {
      unknown: parseCall('deleteEverything', []),
      notAString: parseCall(42, []),
      notAnArray: parseCall('session', {}),
      extraArgument: parseCall('session', ['x']),
      missingArgument: parseCall('chatAnswer', ['bob']),
      extraField: parseCall('join', [{ host: 'h', port: 1, name: 'n', password: '', debug: true }]),
      hostWithPort: parseCall('join', [{ host: '10.0.0.2:7171/x', port: 7171, name: 'n', password: 'p' }]),
      privilegedPort: parseCall('host', [{ roomName: 'Lab', port: 443, name: 'n', password: 'p' }]),
      longText: parseCall('send', [{ kind: 'room' }, 'x'.repeat(8001)]),
      badConversation: parseCall('openChatWindow', ['dm:1']),
      badSetting: parseCall('updateSettings', [{ language: 'xx' }]),
    };
    for (const [what, result] of Object.entries(refusals)) {
      expect(result, what).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(refusals.unknown).toMatchObject({ error: { message: 'unknown call "deleteEverything"' } });
    expect(refusals.privilegedPort).toMatchObject({ error: { message: expect.stringMatching(/^host: argument 1\.port: /) } });
    expect(refusals.missingArgument).toMatchObject({ error: { message: expect.stringMatching(/^chatAnswer: /) } });
  });
});
