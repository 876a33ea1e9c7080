import type { TFunction } from 'i18next';
import type { AppError, RoomLimits } from '../../src-shared/api.js';
import type { ErrorCode } from '../../src-shared/protocol/errors.js';
import { errorText } from '../i18n/index.js';
import { formatSize } from './attachments.js';

/** The file an error is about: its name (unless the error names it) and which way it was going. */
export interface FileAbout {
  name?: string;
  direction: 'upload' | 'download';
}

/**
 * A file error in the UI language, naming the file and the host's limit: the limit comes from the room's
 * hello `limits`, the kind of refusal from the error's code and retryAfterMs (never from the host's English
 * message). Any other error, or one about no file known here, reads as errorText words it.
 */
export function fileErrorText(t: TFunction, error: AppError, about: FileAbout, limits: RoomLimits | undefined, language: string): string {
  const name = error.file ?? about.name;
  if (name === undefined) return errorText(t, error);
  const worded = (key: 'tooLarge' | 'storageFull' | 'dayFull', limit: number | undefined): string =>
    limit === undefined ? t(`files.errors.${key}NoLimit`, { name }) : t(`files.errors.${key}`, { name, limit: formatSize(limit, language) });
  switch (error.code) {
    case 'FILE_TOO_LARGE' satisfies ErrorCode:
      return worded('tooLarge', limits?.maxFileBytes);
    // The host's limit per day comes with the time until the next UTC day; its storage limit without it.
    case 'STORAGE_FULL' satisfies ErrorCode:
      return error.retryAfterMs === undefined ? worded('storageFull', limits?.maxFileStorageBytes) : worded('dayFull', limits?.maxFileBytesPerDay);
    case 'RATE_LIMITED' satisfies ErrorCode: {
      const limit = limits?.maxTransfersPerUser;
      return limit === undefined
        ? t('files.errors.tooManyTransfersNoLimit', { name })
        : t('files.errors.tooManyTransfers', { name, limit: new Intl.NumberFormat(language).format(limit) });
    }
    // Either of the two limits on unfinished uploads: the code does not say which, so both are named.
    case 'LIMIT_REACHED' satisfies ErrorCode: {
      const count = limits?.maxUnfinishedUploadsPerUser;
      const bytes = limits?.maxUnfinishedBytesPerUser;
      return count === undefined || bytes === undefined
        ? t('files.errors.tooManyUnfinishedNoLimit', { name })
        : t('files.errors.tooManyUnfinished', { name, uploads: new Intl.NumberFormat(language).format(count), limit: formatSize(bytes, language) });
    }
    case 'UNKNOWN_FILE' satisfies ErrorCode:
      return t(about.direction === 'upload' ? 'files.errors.uploadGone' : 'files.errors.gone', { name });
    case 'HASH_MISMATCH' satisfies ErrorCode:
      return t('files.errors.damaged', { name });
    // This computer's own failures to save a download: the reason of the last is the system's.
    case 'DISK_FULL':
      return t('files.errors.diskFull', { name });
    case 'SAVE_FAILED':
      return t('files.errors.saveFailed', { name, reason: error.message });
    default:
      return errorText(t, error);
  }
}
