/**
 * Which message's actions are the message list's one tab stop (a roving toolbar, as in Slack): the
 * last one the keyboard was in, else the newest. Arrows move inside a toolbar and up and down to the
 * toolbars of the messages around it, so Tab goes past the list in a few presses, not nine per message.
 */
import { createContext, type KeyboardEvent } from 'react';

/**
 * Gives the tab stop to a message's toolbar, the one the keyboard went into. Which toolbar has it
 * comes to each row as a prop, so that a change of turn renders the two rows it concerns.
 */
export const TakeToolbarTurn = createContext<(messageId: number) => void>(() => undefined);

/** A toolbar's own buttons, in order: not those of a menu or picker opened from it. */
export function toolbarButtons(toolbar: Element): HTMLElement[] {
  return [...toolbar.querySelectorAll<HTMLElement>(':scope > button, :scope > .menu-anchor > button')];
}

const STEPS: Record<string, (at: number, count: number) => number> = {
  ArrowRight: (at, count) => (at + 1) % count,
  ArrowLeft: (at, count) => (at - 1 + count) % count,
  Home: () => 0,
  End: (_at, count) => count - 1,
};

/** Moves the focus for an arrow, Home or End pressed on one of the toolbar's buttons; true when it did. */
export function moveInToolbars(event: KeyboardEvent<HTMLElement>): boolean {
  const toolbar = event.currentTarget;
  const buttons = toolbarButtons(toolbar);
  const at = buttons.indexOf(event.target as HTMLElement);
  if (at < 0 || event.altKey || event.ctrlKey || event.metaKey) return false;
  const step = STEPS[event.key];
  if (step) {
    buttons[step(at, buttons.length)]?.focus();
    return true;
  }
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return false;
  const all = [...(toolbar.closest('[role="log"]')?.querySelectorAll('[role="toolbar"]') ?? [])];
  const next = all[all.indexOf(toolbar) + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next === undefined) return true;
  const theirs = toolbarButtons(next);
  theirs[Math.min(at, theirs.length - 1)]?.focus();
  return true;
}
