import { useTranslation } from 'react-i18next';
import { app } from '../app-context.js';
import { startDirectChat } from '../store/sync.js';
import { InlineForm } from './InlineForm.js';

export function NewDirectMessage() {
  const { t } = useTranslation();
  return (
    <section className="sidebar-section" aria-labelledby="new-dm-title">
      <h2 id="new-dm-title">{t('directChat.title')}</h2>
      <InlineForm
        label={t('directChat.title')}
        fieldLabel={t('directChat.userName')}
        buttonLabel={t('directChat.start')}
        onSubmit={(name) => startDirectChat(app(), name)}
      />
    </section>
  );
}
