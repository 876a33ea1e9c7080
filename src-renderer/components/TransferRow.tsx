import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { formatSize, secondsLeftParts } from '../lib/attachments.js';
import { canRetryHandover, cancelHandover, forgetHandover, retryHandover } from '../store/file-actions.js';
import type { Transfer } from '../store/files.js';
import { useFileErrorText } from './use-file-error-text.js';

/**
 * One upload or download: under way, a bar with percent, speed and time left and Cancel;
 * failed or cancelled, it says so and offers Retry, or Dismiss to forget it.
 */
export function TransferRow({ transfer }: { transfer: Transfer }) {
  const { t, i18n } = useTranslation();
  const dismissTransfer = useApp((state) => state.dismissTransfer);
  const fileErrorText = useFileErrorText();
  const [error, setError] = useState<AppError | null>(null);
  const { id, name, status, progress, direction, handover } = transfer;
  /** The app's id for this transfer; none while the page is still handing the file over. */
  const appId = transfer.appId ?? (handover ? undefined : id);
  const percent = progress && progress.total > 0 ? Math.floor((progress.bytes / progress.total) * 100) : 0;

  const act = async (call: 'cancelTransfer' | 'retryTransfer') => {
    if (appId === undefined) {
      if (call === 'cancelTransfer') cancelHandover(id);
      else retryHandover(id);
      return;
    }
    const result = await app().api[call](appId);
    setError(result.ok ? null : result.error);
  };
  const dismiss = async () => {
    // A row another window or a restart already forgot has nothing to forget in the app.
    if (appId !== undefined) await app().api.cancelTransfer(appId);
    forgetHandover(id);
    dismissTransfer(id);
  };

  if (status === 'done') return null;
  const measured = [
    t('files.percent', { percent }),
    progress && progress.bytesPerSecond > 0 ? t('files.speed', { speed: formatSize(Math.round(progress.bytesPerSecond), i18n.language) }) : null,
    progress?.secondsLeft != null && progress.secondsLeft > 0
      ? t(`files.left.${secondsLeftParts(progress.secondsLeft).unit}`, { count: secondsLeftParts(progress.secondsLeft).count })
      : null,
  ];
  const detail =
    status === 'running'
      ? transfer.waiting
        ? t('files.waiting')
        : handover
          ? t('sending.preparing', { percent })
          : measured.filter(Boolean).join(' · ')
      : status === 'cancelled'
        ? t('files.cancelled')
        : t('files.failed', { error: transfer.error ? fileErrorText(transfer.error, { name, direction }) : '' });
  return (
    <div className="transfer" data-status={status} role="group" aria-label={t(transfer.direction === 'upload' ? 'files.uploading' : 'files.downloading', { name })}>
      <div className="transfer-line">
        <span className="transfer-name">{name}</span>
        <span className="transfer-detail" role={status === 'failed' ? 'alert' : undefined}>
          {detail}
        </span>
      </div>
      {status === 'running' && (
        <progress className="transfer-bar" max={100} value={percent} aria-label={t('files.progress', { name })} aria-valuetext={detail} />
      )}
      <div className="transfer-actions">
        {status === 'running' ? (
          <button type="button" className="link-button" aria-label={t('files.cancel', { name })} onClick={() => void act('cancelTransfer')}>
            {t('layout.cancel')}
          </button>
        ) : (
          <>
            {(appId !== undefined || canRetryHandover(id)) && (
              <button type="button" className="link-button" aria-label={t('files.retry', { name })} onClick={() => void act('retryTransfer')}>
                {t('files.retryShort')}
              </button>
            )}
            <button type="button" className="link-button" aria-label={t('files.dismiss', { name })} onClick={() => void dismiss()}>
              {t('files.dismissShort')}
            </button>
          </>
        )}
      </div>
      {error !== null && <p className="message-error">{fileErrorText(error, { name, direction })}</p>}
    </div>
  );
}
