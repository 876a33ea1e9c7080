import { describe, expect, it } from 'vitest';
import { i18n, initI18n } from '../i18n/index.js';
import { roomMessage } from '../store/test-data.js';
import { conversationPreview } from './preview.js';

const file = (name: string) => ({ id: 'AbCdEfGhIjKlMnOpQrStUv', name, size: 10, type: 'application/pdf', sha256: 'a'.repeat(64) });

describe('the chat list’s preview line (issue 38)', () => {
  initI18n('en');
  const room = (latest: ReturnType<typeof roomMessage>) => conversationPreview(i18n.t, { kind: 'room', latest, members: undefined }, 'alice');

  it('names the file of a message that has no text, and how many more there are', () => {
    expect(room({ ...roomMessage(1, 'Berk', ''), attachments: [file('plan.pdf')] })).toBe('Berk: 📎 plan.pdf');
    expect(room({ ...roomMessage(1, 'Berk', ''), attachments: [file('a.pdf'), file('b.pdf'), file('c.pdf')] })).toBe('Berk: 📎 a.pdf and 2 more files');
    expect(room({ ...roomMessage(1, 'alice', ''), attachments: [file('plan.pdf')] })).toBe('You: 📎 plan.pdf');
    expect(room({ ...roomMessage(1, 'Berk', 'see this'), attachments: [file('plan.pdf')] })).toBe('Berk: see this');
  });

  it('says a deleted message is deleted, never an empty "Berk:"', () => {
    expect(room({ ...roomMessage(1, 'Berk', ''), deleted: true })).toBe('Message deleted');
  });

  it('speaks Turkish in Turkish', async () => {
    await i18n.changeLanguage('tr');
    expect(room({ ...roomMessage(1, 'Berk', ''), attachments: [file('plan.pdf'), file('b.pdf')] })).toBe('Berk: 📎 plan.pdf ve 1 dosya daha');
    await i18n.changeLanguage('en');
  });
});
