import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import { changeReadReceipts, loadReadReceiptsSetting, offers } from '../store/sync.js';
import { ErrorAlert } from './ErrorAlert.js';

/**
 * Whether your account sends read receipts: kept by the room's server for the account, so every
 * device agrees. Off, you see nobody's receipts either (as in Signal).
 */
export function ReadReceiptsSetting() {
  const { t } = useTranslation();
  const hintId = useId();
  const value = useApp((state) => state.sendReadReceipts);
  const [error, setError] = useState<AppError | null>(null);
  const supported = offers(app(), 'read');

  useEffect(() => {
    if (!supported) return;
    void loadReadReceiptsSetting(app()).then((result) => setError(result.ok ? null : result.error));
  }, [supported]);

  if (!supported) return null;
  return (
    <>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={value ?? false}
          disabled={value === null}
          aria-describedby={hintId}
          onChange={async (event) => {
            const result = await changeReadReceipts(app(), event.target.checked);
            setError(result.ok ? null : result.error);
          }}
        />
        {t('receipts.setting')}
      </label>
      <p id={hintId} className="settings-hint">
        {t('receipts.settingHint')}
      </p>
      <ErrorAlert error={error} />
    </>
  );
}
