/**
 * What this window knows of file transfers: each upload's and download's latest state
 * from 'transfer' events, the files waiting in each conversation's composer, and the
 * image the viewer shows.
 */
import type { AppError, TransferEvent } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import type { SliceCreator } from './types.js';

export interface Transfer {
  /** The row's own id: the app's transfer id, or for a file sent from this window, one made at Send. */
  id: string;
  /** The app's transfer id once known, when the row's id is not it. */
  appId?: string;
  /** Sent from this window and not yet the app's: the page is handing the file over (the browser shell). */
  handover?: true;
  direction: TransferEvent['direction'];
  name: string;
  status: TransferEvent['status'];
  progress?: TransferEvent['progress'];
  /** Under way but waiting for the host: the link dropped, or the host is busy. */
  waiting: boolean;
  target?: TransferEvent['target'];
  fileId?: string;
  /** A download done: where it was saved. */
  path?: string;
  error?: AppError;
}

/** The image the viewer shows: a file of a message in a conversation. */
export interface ViewerImage {
  conv: ConversationKey;
  messageId: number;
  fileId: string;
}

export interface FilesData {
  transfers: Record<string, Transfer>;
  /** The row of each app transfer begun from this window: one row from Send to the end, so Cancel stays put. */
  rowOf: Record<string, string>;
  /** Files chosen, dropped or pasted and not sent yet, per conversation. */
  attaching: Partial<Record<ConversationKey, File[]>>;
  viewer: ViewerImage | null;
}

export interface FilesSlice extends FilesData {
  applyTransfer(event: TransferEvent): void;
  /** Rows for files whose Send was just pressed, before the app has them. */
  startHandover(rows: { id: string; name: string; size: number; target: Target }[]): void;
  handoverProgress(id: string, bytes: number): void;
  /** The handover of these rows stopped: cancelled, or failed before the app had them. */
  endHandover(ids: string[], status: 'cancelled' | 'failed', error?: AppError): void;
  /** The app took the files: each row now shows the app's transfer (and takes in the row it may already have made). */
  adoptTransfers(pairs: [row: string, appId: string][]): void;
  /** Forgets a finished, failed or cancelled transfer's row. */
  dismissTransfer(id: string): void;
  attach(conv: ConversationKey, files: File[]): void;
  unattach(conv: ConversationKey, file: File): void;
  clearAttached(conv: ConversationKey): void;
  setViewer(viewer: ViewerImage | null): void;
}

declare module './types.js' {
  interface AppState extends FilesSlice {}
}

export const initialFiles: FilesData = { transfers: {}, rowOf: {}, attaching: {}, viewer: null };

export const createFilesSlice: SliceCreator<FilesSlice> = (set) => ({
  ...initialFiles,
  applyTransfer: (event) =>
    set((state) => {
      const id = state.rowOf[event.transfer] ?? event.transfer;
      const before = state.transfers[id];
      const transfer: Transfer = {
        id,
        ...(id !== event.transfer ? { appId: event.transfer } : {}),
        direction: event.direction,
        // A resumed transfer's first event may come before its name is known to this window.
        name: event.name || before?.name || '',
        status: event.status,
        // The last measurement stays shown while the next one comes.
        progress: event.progress ?? (event.status === 'running' ? before?.progress : undefined),
        waiting: event.waiting === true,
        target: event.target ?? before?.target,
        fileId: event.fileId ?? before?.fileId,
        path: event.path,
        error: event.error,
      };
      return { transfers: { ...state.transfers, [id]: transfer } };
    }),
  startHandover: (rows) =>
    set((state) => {
      const transfers = { ...state.transfers };
      for (const { id, name, size, target } of rows) {
        transfers[id] = {
          id,
          handover: true,
          direction: 'upload',
          name,
          status: 'running',
          progress: { bytes: 0, total: size, bytesPerSecond: 0, secondsLeft: null },
          waiting: false,
          target,
        };
      }
      return { transfers };
    }),
  handoverProgress: (id, bytes) =>
    set((state) => {
      const row = state.transfers[id];
      if (!row?.handover || row.status !== 'running' || !row.progress) return state;
      return { transfers: { ...state.transfers, [id]: { ...row, progress: { ...row.progress, bytes } } } };
    }),
  endHandover: (ids, status, error) =>
    set((state) => {
      const transfers = { ...state.transfers };
      for (const id of ids) {
        const row = transfers[id];
        if (row?.handover) transfers[id] = { ...row, status, progress: undefined, ...(error ? { error } : {}) };
      }
      return { transfers };
    }),
  adoptTransfers: (pairs) =>
    set((state) => {
      const transfers = { ...state.transfers };
      const rowOf = { ...state.rowOf };
      for (const [row, appId] of pairs) {
        const mine = transfers[row];
        if (!mine) continue;
        rowOf[appId] = row;
        // The app's first events may come before its answer: their row is folded into the one shown since Send.
        const early = transfers[appId];
        delete transfers[appId];
        const { handover: _done, ...rest } = mine;
        transfers[row] = early ? { ...early, id: row, appId, name: early.name || mine.name } : { ...rest, appId, progress: undefined };
      }
      return { transfers, rowOf };
    }),
  dismissTransfer: (id) =>
    set((state) => {
      const { [id]: gone, ...transfers } = state.transfers;
      if (gone?.appId === undefined) return { transfers };
      const { [gone.appId]: _row, ...rowOf } = state.rowOf;
      return { transfers, rowOf };
    }),
  attach: (conv, files) => set((state) => ({ attaching: { ...state.attaching, [conv]: [...(state.attaching[conv] ?? []), ...files] } })),
  unattach: (conv, file) => set((state) => ({ attaching: { ...state.attaching, [conv]: (state.attaching[conv] ?? []).filter((f) => f !== file) } })),
  clearAttached: (conv) => set((state) => ({ attaching: { ...state.attaching, [conv]: [] } })),
  setViewer: (viewer) => set({ viewer }),
});
