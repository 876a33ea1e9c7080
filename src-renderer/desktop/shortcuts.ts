import { useEffect } from 'react';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';

export const SEARCH_INPUT_ID = 'search-messages';

/**
 * Ctrl/Cmd+K focuses the search box; Alt+ArrowDown / Alt+ArrowUp open the next /
 * previous conversation of the sidebar (wrapping around).
 */
export function useShortcuts(order: ConversationKey[], active: ConversationKey | null, open: (conv: ConversationKey) => void) {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        const search = document.getElementById(SEARCH_INPUT_ID);
        if (search instanceof HTMLInputElement) {
          search.focus();
          search.select();
        }
        return;
      }
      if (event.altKey && (event.key === 'ArrowDown' || event.key === 'ArrowUp') && order.length > 0) {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        const index = active === null ? -1 : order.indexOf(active);
        const from = index < 0 && step < 0 ? order.length : index;
        const next = order[(from + step + order.length) % order.length];
        if (next !== undefined) open(next);
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [order, active, open]);
}
