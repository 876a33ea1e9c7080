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
  /** The person the results are filtered by, as matched from what was typed (matchPerson); null: nobody. */
  searchPersonFound: string | null;
  /** Everyone a typed part of a name matches, when it matches more than one: no search runs until one is picked. */
  searchPeopleMatched: string[];
  /** Numbers each search, so a slow answer to an older one is dropped. */
  searchSeq: number;
}

export interface SearchSlice extends SearchData {
  setSearchQuery(query: string): void;
  setSearchPerson(person: string): void;
  /** Marks a search (filtered by `person`, when found) as running and returns its number. */
  startSearch(person?: string): number;
  /** A typed part of a name matches several people: says so in place of results. */
  askWhichPerson(people: string[]): void;
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
  searchPersonFound: null,
  searchPeopleMatched: [],
};

/**
 * A changed query or person: the results shown so far answer another question, so they go, and a
 * search counts as under way from this keystroke (its request waits for typing to pause); any answer
 * still to come for the old query is dropped (a new number).
 */
function queryChanged(state: SearchData, change: Partial<SearchData>): Partial<SearchData> {
  const next = { ...state, ...change };
  return {
    ...change,
    searchSeq: state.searchSeq + 1,
    searchHits: [],
    searchHasMore: false,
    searchLoading: next.searchQuery.trim() !== '' || next.searchPerson.trim() !== '',
    searchError: null,
    searchPeopleMatched: [],
  };
}

export const createSearchSlice: SliceCreator<SearchSlice> = (set, get) => ({
  ...initialSearch,
  searchSeq: 0,
  setSearchQuery: (searchQuery) => set((state) => queryChanged(state, { searchQuery })),
  setSearchPerson: (searchPerson) => set((state) => queryChanged(state, { searchPerson })),
  startSearch: (person) => {
    const seq = get().searchSeq + 1;
    set({ searchSeq: seq, searchLoading: true, searchError: null, searchPeopleMatched: [], searchPersonFound: person ?? null });
    return seq;
  },
  askWhichPerson: (people) =>
    set((state) => ({ searchSeq: state.searchSeq + 1, searchHits: [], searchHasMore: false, searchLoading: false, searchError: null, searchPeopleMatched: people })),
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
