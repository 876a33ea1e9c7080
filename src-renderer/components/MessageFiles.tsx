/** A message's files: pictures inline at their reserved size (click opens the viewer), other files as cards. */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { Attachment, ChatMessage } from '../../src-shared/protocol/objects.js';
import { isRiskyFile } from '../../src-shared/risky-files.js';
import { isBrowserShell } from '../api.js';
import { app, useApp } from '../app-context.js';
import { type InlineImage, fitInBox, formatSize, inlineImageBox, isInlineImage, thumbnailUrl } from '../lib/attachments.js';
import { fileKind } from '../lib/file-kinds.js';
import { downloadToBrowser } from '../store/file-actions.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Icon } from './Icons.js';
import { TransferRow } from './TransferRow.js';
import { useFileErrorText } from './use-file-error-text.js';

export function MessageFiles({ message }: { message: ChatMessage }) {
  const files = message.attachments ?? [];
  if (files.length === 0 || message.deleted) return null;
  const images = files.filter(isInlineImage);
  const others = files.filter((file) => !isInlineImage(file));
  return (
    <div className="message-files">
      {images.length > 0 && (
        <div className="message-images">
          {images.map((image) => (
            <InlinePicture key={image.id} image={image} message={message} />
          ))}
        </div>
      )}
      {others.map((file) => (
        <FileCard key={file.id} file={file} />
      ))}
    </div>
  );
}

/** The sender's thumbnail drawn in the image's own proportions: the space is taken before it loads, so nothing jumps. */
function InlinePicture({ image, message }: { image: InlineImage; message: ChatMessage }) {
  const { t } = useTranslation();
  const setViewer = useApp((state) => state.setViewer);
  const size = fitInBox(image.width, image.height);
  const box = inlineImageBox(image.width, image.height);
  return (
    <button
      type="button"
      className={box.tiny ? 'inline-image tiny' : 'inline-image'}
      // Width and proportions fix the box before the picture loads; a narrow window shrinks both together.
      style={{ width: box.width, aspectRatio: `${box.width} / ${box.height}` }}
      aria-label={t('files.openImage', { name: image.name })}
      title={image.name}
      onClick={() => setViewer({ conv: message.conv, messageId: message.id, fileId: image.id })}
    >
      <img src={thumbnailUrl(image.thumbnail)} alt="" width={size.width} height={size.height} />
    </button>
  );
}

/** Name, size and type; Open, Save as… and Show in folder on the desktop, Download in the browser. */
export function FileCard({ file }: { file: Attachment }) {
  const { t, i18n } = useTranslation();
  const fileErrorText = useFileErrorText();
  const download = useApp((state) => Object.values(state.transfers).find((transfer) => transfer.direction === 'download' && transfer.fileId === file.id && transfer.status !== 'done'));
  const [error, setError] = useState<AppError | null>(null);
  const [confirming, setConfirming] = useState(false);
  const browser = isBrowserShell();
  const risky = isRiskyFile(file.name, file.type);

  const run = async (action: () => Promise<{ ok: true } | { ok: false; error: AppError }>) => {
    const result = await action();
    // The app found what the attachment's type did not say: the file could run a program.
    if (!result.ok && result.error.code === 'RISKY_FILE') {
      setConfirming(true);
      return;
    }
    setError(result.ok ? null : result.error);
  };
  const open = (confirmed: boolean) => run(() => app().api.openFile(file.id, file.name, confirmed));
  const save = () => run(() => downloadToBrowser(app(), file));
  const primary = () => (risky ? setConfirming(true) : void (browser ? save() : open(false)));

  return (
    <div className="file-card" role="group" aria-label={file.name}>
      <span className="file-card-icon">
        <Icon name="file" size={22} />
      </span>
      <div className="file-card-body">
        <span className="file-card-name" title={file.name}>
          {file.name}
        </span>
        <span className="file-card-meta" title={file.type}>
          {formatSize(file.size, i18n.language)} · {t(`fileKind.${fileKind(file.name, file.type)}`)}
        </span>
        {download && <TransferRow transfer={download} />}
        {error !== null && <p className="message-error">{fileErrorText(error, { name: file.name, direction: 'download' })}</p>}
      </div>
      <div className="file-card-actions">
        <button type="button" aria-label={t(browser ? 'files.download' : 'files.open', { name: file.name })} onClick={primary}>
          {browser ? t('files.downloadShort') : t('files.openShort')}
        </button>
        {!browser && (
          <>
            <button type="button" aria-label={t('files.saveAs', { name: file.name })} onClick={() => void run(async () => app().api.saveFileAs(file.id, file.name))}>
              {t('files.saveAsShort')}
            </button>
            <button type="button" aria-label={t('files.showInFolder', { name: file.name })} onClick={() => void run(() => app().api.showFileInFolder(file.id, file.name))}>
              {t('files.showInFolderShort')}
            </button>
          </>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        question={t(browser ? 'files.riskyDownloadQuestion' : 'files.riskyOpenQuestion', { name: file.name })}
        detail={t('files.riskyDetail')}
        confirm={browser ? t('files.downloadShort') : t('files.openShort')}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          void (browser ? save() : open(true));
        }}
      />
    </div>
  );
}
