/**
 * What this window knows of file transfers: each upload's and download's latest state
 * from 'transfer' events, the files waiting in each conversation's composer, and the
 * image the viewer shows.
 */
import type { AppError, TransferEvent } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { SliceCreator } from './types.js';

export interface Transfer {
  id: string;
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
  /** Files chosen, dropped or pasted and not sent yet, per conversation. */
  attaching: Partial<Record<ConversationKey, File[]>>;
  viewer: ViewerImage | null;
}

export interface FilesSlice extends FilesData {
  applyTransfer(event: TransferEvent): void;
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

export const initialFiles: FilesData = { transfers: {}, attaching: {}, viewer: null };

export const createFilesSlice: SliceCreator<FilesSlice> = (set) => ({
  ...initialFiles,
  applyTransfer: (event) =>
    set((state) => {
      const before = state.transfers[event.transfer];
      const transfer: Transfer = {
        id: event.transfer,
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
      return { transfers: { ...state.transfers, [event.transfer]: transfer } };
    }),
  dismissTransfer: (id) =>
    set((state) => {
      const { [id]: _gone, ...transfers } = state.transfers;
      return { transfers };
    }),
  attach: (conv, files) => set((state) => ({ attaching: { ...state.attaching, [conv]: [...(state.attaching[conv] ?? []), ...files] } })),
  unattach: (conv, file) => set((state) => ({ attaching: { ...state.attaching, [conv]: (state.attaching[conv] ?? []).filter((f) => f !== file) } })),
  clearAttached: (conv) => set((state) => ({ attaching: { ...state.attaching, [conv]: [] } })),
  setViewer: (viewer) => set({ viewer }),
});
