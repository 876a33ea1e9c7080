import type { Contact, ContactState } from '../../src-shared/protocol/objects.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { SliceCreator } from './types.js';

/** A contact as far as known: a chat request event does not say which conversation it opens. */
export interface ContactView extends Omit<Contact, 'conv'> {
  conv: ConversationKey | null;
}

/** People you have a direct-chat relation with (requested, accepted, declined). */
export interface ContactsData {
  /** By name key. */
  contacts: Record<string, ContactView>;
}

export interface ContactsSlice extends ContactsData {
  setContacts(contacts: Contact[]): void;
  upsertContact(contact: Contact): void;
  /** Records a request or answer seen in an event; the conversation stays as known until contacts are refetched. */
  setContactState(name: string, state: ContactState, since: number): void;
  removeContact(name: string): void;
}

declare module './types.js' {
  interface AppState extends ContactsSlice {}
}

export const initialContacts: ContactsData = { contacts: {} };

export const createContactsSlice: SliceCreator<ContactsSlice> = (set) => {
  const updateContact = (name: string, update: (contact: ContactView | undefined) => ContactView) =>
    set((state) => {
      const key = nameKey(name);
      return { contacts: { ...state.contacts, [key]: update(state.contacts[key]) } };
    });

  return {
    ...initialContacts,
    setContacts: (contacts) =>
      set({ contacts: Object.fromEntries(contacts.map((contact) => [nameKey(contact.name), contact])) }),
    upsertContact: (contact) => updateContact(contact.name, () => contact),
    setContactState: (name, state, since) =>
      updateContact(name, (known) => ({ name: known?.name ?? name, conv: known?.conv ?? null, state, since })),
    removeContact: (name) =>
      set((state) => {
        const { [nameKey(name)]: _removed, ...contacts } = state.contacts;
        return { contacts };
      }),
  };
};
