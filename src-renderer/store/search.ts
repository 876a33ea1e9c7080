import type { AppError } from '../../src-shared/api.js';
import type { SearchHit } from '../../src-shared/protocol/objects.js';
import type { SliceCreator } from './types.js';

export interface SearchData {
  searchQuery: string;
  /** Only messages from or with this person. */
  searchPerson: string;
  searchHits: SearchHit[];
  searchHasMore: boolean;
  searchLoading: boolean;
  searchError: AppError | null;
  /** Numbers each search, so a slow answer to an older one is dropped. */
  searchSeq: number;
}

export interface SearchSlice extends SearchData {
  setSearchQuery(query: string): void;
  setSearchPerson(person: string): void;
  /** Marks a search as running and returns its number. */
  startSearch(): number;
  finishSearch(seq: number, hits: SearchHit[], hasMore: boolean, append: boolean): void;
  failSearch(seq: number, error: AppError): void;
  clearSearch(): void;
}

declare module './types.js' {
  interface AppState extends SearchSlice {}
}

export const initialSearch: Omit<SearchData, 'searchSeq'> = {
  searchQuery: '',
  searchPerson: '',
  searchHits: [],
  searchHasMore: false,
  searchLoading: false,
  searchError: null,
};

export const createSearchSlice: SliceCreator<SearchSlice> = (set, get) => ({
  ...initialSearch,
  searchSeq: 0,
  setSearchQuery: (searchQuery) => set({ searchQuery }),
  setSearchPerson: (searchPerson) => set({ searchPerson }),
  startSearch: () => {
    const seq = get().searchSeq + 1;
    set({ searchSeq: seq, searchLoading: true, searchError: null });
    return seq;
  },
  finishSearch: (seq, hits, hasMore, append) =>
    set((state) =>
      seq !== state.searchSeq
        ? state
        : {
            searchHits: append ? [...state.searchHits, ...hits] : hits,
            searchHasMore: hasMore,
            searchLoading: false,
          },
    ),
  failSearch: (seq, error) =>
    set((state) => (seq !== state.searchSeq ? state : { searchError: error, searchLoading: false })),
  clearSearch: () => set((state) => ({ ...initialSearch, searchSeq: state.searchSeq + 1 })),
});
