import { useTranslation } from 'react-i18next';
import { useClipboard } from '../lib/use-clipboard.js';
import { Icon } from './Icons.js';

/** Addresses others join with, each with a copy button; says politely what was copied. */
export function CopyAddresses({ addresses, labelledBy }: { addresses: string[]; labelledBy: string }) {
  const { t } = useTranslation();
  const { copied, copy } = useClipboard<string>();

  return (
    <>
      <ul aria-labelledby={labelledBy} className="addresses">
        {addresses.map((address) => (
          <li key={address}>
            <code>{address}</code>
            <button type="button" className="icon-text" aria-label={t('host.copyLabel', { address })} onClick={() => void copy(address, address)}>
              <Icon name="copy" size={16} /> {t('host.copy')}
            </button>
          </li>
        ))}
      </ul>
      <p className="copied" aria-live="polite">
        {copied !== null && t('host.copied', { address: copied })}
      </p>
    </>
  );
}
