import { useState } from 'react';
import type { AppError, Result } from '../../src-shared/api.js';
import { ErrorAlert } from './ErrorAlert.js';

export interface RequestItem {
  key: string;
  text: string;
  acceptLabel: string;
  declineLabel: string;
  answer: (accept: boolean) => Promise<Result<unknown>>;
}

interface RequestListProps {
  id: string;
  title: string;
  items: readonly RequestItem[];
  acceptShort: string;
  declineShort: string;
}

/** A sidebar section of things to accept or decline, with the last answer's error. Hidden while empty. */
export function RequestList({ id, title, items, acceptShort, declineShort }: RequestListProps) {
  const [error, setError] = useState<AppError | null>(null);
  if (items.length === 0 && error === null) return null;

  const respond = async (item: RequestItem, accept: boolean) => {
    const result = await item.answer(accept);
    setError(result.ok ? null : result.error);
  };

  return (
    <section className={`sidebar-section ${id}`} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <ul>
        {items.map((item) => (
          <li key={item.key} className="request">
            <span>{item.text}</span>
            <span className="request-actions">
              <button type="button" className="primary" aria-label={item.acceptLabel} onClick={() => void respond(item, true)}>
                {acceptShort}
              </button>
              <button type="button" aria-label={item.declineLabel} onClick={() => void respond(item, false)}>
                {declineShort}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorAlert error={error} />
    </section>
  );
}
