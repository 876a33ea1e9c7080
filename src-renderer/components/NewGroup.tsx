import { useTranslation } from 'react-i18next';
import { app } from '../app-context.js';
import { createGroup } from '../store/sync.js';
import { InlineForm } from './InlineForm.js';

export function NewGroup() {
  const { t } = useTranslation();
  return (
    <section className="sidebar-section" aria-labelledby="new-group-title">
      <h2 id="new-group-title">{t('groups.new')}</h2>
      <InlineForm
        label={t('groups.new')}
        fieldLabel={t('groups.name')}
        buttonLabel={t('groups.create')}
        onSubmit={(name) => createGroup(app(), name)}
      />
    </section>
  );
}
