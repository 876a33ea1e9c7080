/**
 * The full-size viewer for a conversation's pictures: the app downloads the file (the sender's
 * thumbnail is shown meanwhile, under the download's progress), arrows go to the previous and next picture of the loaded
 * conversation, Escape closes and focus goes back to the picture it was opened from.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { savedFileUrl, isBrowserShell } from '../api.js';
import { app, useApp } from '../app-context.js';
import { type InlineImage, fitInBox, formatSize, isInlineImage, thumbnailUrl } from '../lib/attachments.js';
import { downloadToBrowser } from '../store/file-actions.js';
import type { Transfer } from '../store/files.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icons.js';
import { useFileErrorText } from './use-file-error-text.js';

const NO_MESSAGES: never[] = [];

export function ImageViewer() {
  const { t } = useTranslation();
  const viewer = useApp((state) => state.viewer);
  const setViewer = useApp((state) => state.setViewer);
  const messages = useApp((state) => (viewer ? (state.timelines[viewer.conv]?.messages ?? NO_MESSAGES) : NO_MESSAGES));
  const images = useMemo(
    () => messages.flatMap((message) => (message.deleted ? [] : (message.attachments ?? []).filter(isInlineImage).map((image) => ({ image, messageId: message.id })))),
    [messages],
  );
  const index = viewer ? images.findIndex((entry) => entry.image.id === viewer.fileId && entry.messageId === viewer.messageId) : -1;
  const current = index >= 0 ? images[index]!.image : null;

  const go = useCallback(
    (step: number) => {
      const next = images[index + step];
      if (viewer && next) setViewer({ conv: viewer.conv, messageId: next.messageId, fileId: next.image.id });
    },
    [images, index, viewer, setViewer],
  );
  // On the window, not the dialog: at the first or last picture its button is disabled and focus leaves it.
  const open = current !== null;
  useEffect(() => {
    if (!open) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === 'ArrowLeft') go(-1);
      else if (event.key === 'ArrowRight') go(1);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [open, go]);

  return (
    <Dialog title={current?.name ?? ''} open={current !== null} onClose={() => setViewer(null)}>
      {current !== null && (
        <div className="viewer">
          <FullImage key={current.id} image={current} />
          <div className="viewer-bar">
            <button type="button" className="icon-button" aria-label={t('files.previousImage')} title={t('files.previousImage')} disabled={index <= 0} onClick={() => go(-1)}>
              <Icon name="chevronLeft" />
            </button>
            <span className="viewer-count">{t('files.imageCount', { index: index + 1, count: images.length })}</span>
            <button
              type="button"
              className="icon-button"
              aria-label={t('files.nextImage')}
              title={t('files.nextImage')}
              disabled={index >= images.length - 1}
              data-autofocus
              onClick={() => go(1)}
            >
              <Icon name="chevronRight" />
            </button>
            <SaveImage image={current} />
          </div>
        </div>
      )}
    </Dialog>
  );
}

/**
 * The picture itself once the app has it. Until then its thumbnail, at the same size, under the
 * download's progress from the app's 'transfer' events; if the download fails, why, and Retry.
 */
function FullImage({ image }: { image: InlineImage }) {
  const { t, i18n } = useTranslation();
  const fileErrorText = useFileErrorText();
  const [savedPath, setSavedPath] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const download = useApp((state) => latestDownload(Object.values(state.transfers), image.id));
  useEffect(() => {
    let current = true;
    setError(null);
    void app()
      .api.downloadFile(image.id, image.name)
      .then((result) => {
        if (!current) return;
        if (result.ok) setSavedPath(result.value.path);
        else setError(result.error);
      });
    return () => {
      current = false;
    };
  }, [image, attempt]);
  // A retried download ends in an event, not in the answer above.
  const path = savedPath ?? (download?.status === 'done' ? (download.path ?? null) : null);
  const failure = path !== null || download?.status === 'running' ? null : (error ?? (download?.status === 'failed' ? (download.error ?? null) : null));
  const retry = async () => {
    setError(null);
    // Goes on from where the failed download stopped; one the app no longer knows starts again.
    const retried = download?.status === 'failed' ? await app().api.retryTransfer(download.id) : null;
    if (!retried?.ok) setAttempt((count) => count + 1);
  };

  const size = fitInBox(image.width, image.height, { width: window.innerWidth * 0.86, height: window.innerHeight * 0.7 });
  const done = download?.status === 'running' ? (download.progress?.bytes ?? 0) : 0;
  const total = (download?.status === 'running' ? download.progress?.total : undefined) || image.size;
  const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
  const sizes =
    download?.status === 'running' && download.waiting
      ? t('files.waiting')
      : t('files.sizeOfTotal', { done: formatSize(done, i18n.language), total: formatSize(total, i18n.language) });
  return (
    <figure className="viewer-figure">
      <img
        className={path === null ? 'viewer-image loading' : 'viewer-image'}
        src={path === null ? thumbnailUrl(image.thumbnail) : savedFileUrl(image.id, image.name, path)}
        alt={image.name}
        width={size.width}
        height={size.height}
        aria-busy={path === null}
      />
      {path === null && failure === null && (
        <div className="viewer-progress">
          <div
            role="progressbar"
            className="viewer-progress-bar"
            aria-label={t('files.downloading', { name: image.name })}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            aria-valuetext={sizes}
          >
            <span style={{ width: `${percent}%` }} />
          </div>
          <span className="viewer-progress-text">{sizes}</span>
        </div>
      )}
      {failure !== null && (
        <figcaption className="viewer-progress viewer-failed">
          <span role="alert">{t('files.failed', { error: fileErrorText(failure, { name: image.name, direction: 'download' }) })}</span>
          <button type="button" aria-label={t('files.retry', { name: image.name })} onClick={() => void retry()}>
            {t('files.retryShort')}
          </button>
        </figcaption>
      )}
    </figure>
  );
}

/** The last download of a file this window heard of (the app's events come in order). */
function latestDownload(transfers: Transfer[], fileId: string): Transfer | undefined {
  return transfers.findLast((transfer) => transfer.direction === 'download' && transfer.fileId === fileId);
}

function SaveImage({ image }: { image: InlineImage }) {
  const { t } = useTranslation();
  const fileErrorText = useFileErrorText();
  const [error, setError] = useState<AppError | null>(null);
  const browser = isBrowserShell();
  const save = async () => {
    const result = browser ? await downloadToBrowser(app(), image) : await app().api.saveFileAs(image.id, image.name);
    setError(result.ok ? null : result.error);
  };
  return (
    <>
      <button type="button" className="viewer-save" aria-label={t(browser ? 'files.download' : 'files.saveAs', { name: image.name })} onClick={() => void save()}>
        <Icon name="download" /> {browser ? t('files.downloadShort') : t('files.saveAsShort')}
      </button>
      {error !== null && <span className="message-error">{fileErrorText(error, { name: image.name, direction: 'download' })}</span>}
    </>
  );
}
