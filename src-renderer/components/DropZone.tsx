import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { useApp } from '../app-context.js';
import { Icon } from './Icons.js';

function carriesFiles(event: DragEvent): boolean {
  return event.dataTransfer?.types.includes('Files') ?? false;
}

/**
 * Files dragged anywhere onto the window are attached to the open conversation's composer;
 * while they are dragged over it, the window says where they will go.
 */
export function DropZone({ conv, name, enabled }: { conv: ConversationKey; name: string; enabled: boolean }) {
  const { t } = useTranslation();
  const attach = useApp((state) => state.attach);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    if (!enabled) return;
    // dragenter and dragleave come for every element crossed; the window is left when they even out.
    let depth = 0;
    const enter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      setDragging(true);
    };
    const over = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      // Without this the browser opens the file instead of letting the page have it.
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const leave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length > 0) attach(conv, files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [conv, enabled, attach]);

  if (!dragging) return null;
  return (
    <div className="drop-zone" role="status">
      <Icon name="paperclip" size={32} />
      <p>{t('files.dropHere', { name })}</p>
    </div>
  );
}
