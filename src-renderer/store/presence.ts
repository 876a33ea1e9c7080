import type { Contact, ContactState, UserInfo } from '../../src-shared/protocol/objects.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { SliceCreator } from './types.js';

/** A contact as far as known: a chat request event does not say which conversation it opens. */
export interface ContactView extends Omit<Contact, 'conv'> {
  conv: ConversationKey | null;
}

export interface PresenceData {
  /** Every user of the room, by name key. */
  users: Record<string, UserInfo>;
  /** People you have a direct-chat relation with, by name key. */
  contacts: Record<string, ContactView>;
}

export interface PresenceSlice extends PresenceData {
  setUsers(users: UserInfo[]): void;
  applyPresence(user: string, online: boolean, ts: number): void;
  setContacts(contacts: Contact[]): void;
  upsertContact(contact: Contact): void;
  /** Records a request or answer seen in an event; the conversation stays as known until contacts are refetched. */
  setContactState(name: string, state: ContactState, since: number): void;
  removeContact(name: string): void;
}

export const initialPresence: PresenceData = { users: {}, contacts: {} };

export const createPresenceSlice: SliceCreator<PresenceSlice> = (set) => {
  const updateContact = (name: string, update: (contact: ContactView | undefined) => ContactView) =>
    set((state) => {
      const key = nameKey(name);
      return { contacts: { ...state.contacts, [key]: update(state.contacts[key]) } };
    });

  return {
    ...initialPresence,
    setUsers: (users) => set({ users: Object.fromEntries(users.map((user) => [nameKey(user.name), user])) }),
    applyPresence: (user, online, ts) =>
      set((state) => {
        const key = nameKey(user);
        const known = state.users[key];
        return { users: { ...state.users, [key]: { name: known?.name ?? user, online, lastSeen: ts } } };
      }),
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
