import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatSize } from '../lib/attachments.js';
import { Icon } from './Icons.js';

/** The files about to be sent with the composer's message, each with a button to take it off. */
export function AttachedFiles({ files, onRemove }: { files: File[]; onRemove(file: File): void }) {
  const { t, i18n } = useTranslation();
  if (files.length === 0) return null;
  return (
    <ul className="attached" aria-label={t('files.attached')}>
      {files.map((file, index) => (
        // The same file may be attached twice; its place tells the two apart.
        <li key={`${index}-${file.name}`} className="attached-file">
          <Preview file={file} />
          <span className="attached-name" title={file.name}>
            {file.name}
          </span>
          <span className="attached-size">{formatSize(file.size, i18n.language)}</span>
          <button type="button" className="icon-button" aria-label={t('files.remove', { name: file.name })} title={t('files.remove', { name: file.name })} onClick={() => onRemove(file)}>
            <Icon name="close" size={14} />
          </button>
        </li>
      ))}
    </ul>
  );
}

/** A picture's own pixels from memory (an object URL, released when it goes), or the file icon. */
function Preview({ file }: { file: File }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file.type.startsWith('image/')) return;
    const made = URL.createObjectURL(file);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [file]);
  return url === null ? (
    <span className="attached-icon">
      <Icon name="file" />
    </span>
  ) : (
    <img className="attached-preview" src={url} alt="" width={32} height={32} />
  );
}
