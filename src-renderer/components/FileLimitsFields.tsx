/**
 * The Host room form's file limits, behind a disclosure: sizes typed as people write them
 * ("500 MB", "2 GB"), the host's defaults as placeholders; an empty field keeps the default.
 */
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { FILE_LIMITS } from '../../src-shared/protocol/limits.js';
import { FILE_LIMIT_FIELDS, type FileLimitField, type FileLimitTexts, sizeText } from '../lib/sizes.js';

interface FileLimitsFieldsProps {
  texts: FileLimitTexts;
  onChange(field: FileLimitField, text: string): void;
  open: boolean;
  onToggle(open: boolean): void;
  /** The field the last check found wrong. */
  invalid: FileLimitField | null;
}

export function FileLimitsFields({ texts, onChange, open, onToggle, invalid }: FileLimitsFieldsProps) {
  const { t, i18n } = useTranslation();
  const panelId = useId();
  const hintId = useId();
  return (
    <div className="field file-limits">
      <button type="button" className="disclosure" aria-expanded={open} aria-controls={panelId} onClick={() => onToggle(!open)}>
        {t('hostLimits.show')}
      </button>
      <div id={panelId} className="file-limits-panel" hidden={!open}>
        <p id={hintId} className="hint">
          {t('hostLimits.hint')}
        </p>
        {FILE_LIMIT_FIELDS.map((field) => (
          <label key={field}>
            {t(`hostLimits.${field}`)}
            <input
              value={texts[field]}
              onChange={(event) => onChange(field, event.target.value)}
              placeholder={sizeText(FILE_LIMITS[field], i18n.language)}
              aria-describedby={hintId}
              aria-invalid={invalid === field || undefined}
              inputMode="decimal"
              autoComplete="off"
            />
          </label>
        ))}
      </div>
    </div>
  );
}
