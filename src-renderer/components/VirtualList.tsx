import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useMemo, useRef, useState } from 'react';
import { nameKey } from '../../src-shared/protocol/names.js';

/** From this many items on, a list gets a box that finds one by part of its name. */
const FIND_FROM = 10;

/**
 * A list in a scroll box of its own, whose rows are in the page only near the part in view: a room
 * of thousands renders a screenful of its people, not thousands (opening them took 281 ms with
 * 2,000 before). Each row says where it stands among all (aria-setsize, aria-posinset).
 */
export function VirtualList<T>({
  items,
  keyOf,
  estimate,
  labelledBy,
  className,
  children,
}: {
  items: readonly T[];
  keyOf(item: T): string;
  /** A row's height before it is measured, in px. */
  estimate: number;
  labelledBy: string;
  /** Sizes the scroll box (`.virtual-box`) and styles the list. */
  className: string;
  children(item: T): ReactNode;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => estimate,
    getItemKey: (index) => keyOf(items[index]!),
    overscan: 8,
  });
  return (
    <div ref={scrollRef} className={`virtual-box ${className}`}>
      <ul aria-labelledby={labelledBy} className="virtual-list" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => (
          <li
            key={row.key}
            data-index={row.index}
            ref={virtualizer.measureElement}
            aria-setsize={items.length}
            aria-posinset={row.index + 1}
            style={{ transform: `translateY(${row.start}px)` }}
          >
            {children(items[row.index]!)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The items whose name holds what is typed in a search box labelled `label`, which appears once
 * there are FIND_FROM items (fewer are read at a glance).
 */
export function useFindByName<T>(items: readonly T[], nameOf: (item: T) => string, label: string): { shown: readonly T[]; box: ReactNode } {
  const [query, setQuery] = useState('');
  const needle = nameKey(query.trim());
  const shown = useMemo(() => (needle === '' ? items : items.filter((item) => nameKey(nameOf(item)).includes(needle))), [items, nameOf, needle]);
  const box = items.length >= FIND_FROM && (
    <input type="search" aria-label={label} placeholder={label} value={query} onChange={(event) => setQuery(event.target.value)} />
  );
  return { shown, box };
}
