import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { app } from '../app-context.js';
import { ErrorAlert } from './ErrorAlert.js';

type Format = 'html' | 'json';

/** Saves the conversation as a file the way a browser saves a download (Electron asks where). */
function save(fileName: string, mimeType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // Not at once: a download that has not read the blob yet is lost without a word (FileSaver.js waits 40 s too).
  setTimeout(() => URL.revokeObjectURL(url), 40_000);
}

/** In the details panel: the whole conversation as HTML to read or JSON to process (issue 35 item 5). */
export function ExportConversation({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const titleId = useId();
  const [busy, setBusy] = useState<Format | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const run = async (format: Format) => {
    setBusy(format);
    setError(null);
    const result = await app().api.exportConversation(conv, format);
    setBusy(null);
    if (!result.ok) return setError(result.error);
    save(result.value.fileName, result.value.mimeType, result.value.content);
  };
  return (
    <section className="export-conversation" aria-labelledby={titleId}>
      <h3 id={titleId}>{t('export.title')}</h3>
      <div className="export-actions">
        {(['html', 'json'] as const).map((format) => (
          <button key={format} type="button" disabled={busy !== null} aria-busy={busy === format} onClick={() => void run(format)} title={t(`export.${format}Detail`)}>
            {busy === format ? t('export.working') : t(`export.${format}`)}
          </button>
        ))}
      </div>
      {error && <ErrorAlert error={error} />}
    </section>
  );
}
