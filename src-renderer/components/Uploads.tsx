import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { sameName } from '../../src-shared/protocol/names.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import { useApp } from '../app-context.js';
import { TransferRow } from './TransferRow.js';

function sameTarget(a: Target, b: Target): boolean {
  if (a.kind === 'dm') return b.kind === 'dm' && sameName(a.user, b.user);
  if (a.kind === 'group') return b.kind === 'group' && a.groupId === b.groupId;
  return b.kind === 'room';
}

/** The files this conversation is sending: each with its progress until its message goes out. */
export function Uploads({ target }: { target: Target | null }) {
  const { t } = useTranslation();
  const transfers = useApp((state) => state.transfers);
  const uploads = useMemo(
    () =>
      Object.values(transfers).filter(
        (transfer) => transfer.direction === 'upload' && transfer.status !== 'done' && transfer.target && target && sameTarget(transfer.target, target),
      ),
    [transfers, target],
  );
  if (uploads.length === 0) return null;
  return (
    <section className="uploads" aria-label={t('files.uploads')}>
      {uploads.map((transfer) => (
        <TransferRow key={transfer.id} transfer={transfer} />
      ))}
    </section>
  );
}
