import { afterAll, describe, expect, it } from 'vitest';
import type { AppError, RoomLimits } from '../../src-shared/api.js';
import { i18n, initI18n } from '../i18n/index.js';
import { fileErrorText } from './file-errors.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;
// Only the file limits matter here; the rest of hello's limits is not read.
const limits = {
  maxFileBytes: MB,
  maxFileStorageBytes: 10 * GB,
  maxFileBytesPerDay: 2 * GB,
  maxTransfersPerUser: 16,
  maxUnfinishedUploadsPerUser: 20,
  maxUnfinishedBytesPerUser: GB,
} as RoomLimits;
// The host's English detail, which must never show through.
const error = (code: string, extra: Partial<AppError> = {}): AppError => ({ code, message: 'the host’s English detail', ...extra });
const upload = { name: 'photos.zip', direction: 'upload' } as const;
const download = { name: 'photos.zip', direction: 'download' } as const;

describe('a host’s refusal of a file, worded in the UI language', () => {
  initI18n('en');
  afterAll(() => i18n.changeLanguage('en'));

  const cases: [string, AppError, typeof upload | typeof download, RoomLimits | undefined, string, string][] = [
    ['too large', error('FILE_TOO_LARGE'), upload, limits,
      'photos.zip is too large: the host allows 1 MB.',
      'photos.zip çok büyük: oda sahibi en fazla 1 MB boyutunda dosya kabul ediyor.'],
    ['too large, no limit announced', error('FILE_TOO_LARGE'), upload, undefined,
      'photos.zip is larger than the host allows.',
      'photos.zip, oda sahibinin kabul ettiğinden büyük.'],
    ['the host’s storage', error('STORAGE_FULL'), upload, limits,
      'The host has no room left for photos.zip: it keeps at most 10 GB of files.',
      'Oda sahibinde photos.zip için yer kalmadı: toplam en fazla 10 GB dosya saklıyor.'],
    ['the host’s storage, no limit announced', error('STORAGE_FULL'), upload, undefined,
      'The host has no room left for photos.zip.',
      'Oda sahibinde photos.zip için yer kalmadı.'],
    ['the day’s limit (the error carries retryAfterMs)', error('STORAGE_FULL', { retryAfterMs: 3_600_000 }), upload, limits,
      'photos.zip was not sent: you have sent 2 GB of files today, as much as the host takes from one person per day. You can send again after 00:00 UTC.',
      'photos.zip gönderilmedi: bugün 2 GB dosya gönderdiniz, oda sahibinin bir kişiden günde kabul ettiği kadar. UTC 00:00’dan sonra yeniden gönderebilirsiniz.'],
    ['the day’s limit, no limit announced', error('STORAGE_FULL', { retryAfterMs: 1 }), upload, undefined,
      'photos.zip was not sent: you have sent as many files today as the host takes from one person per day. You can send again after 00:00 UTC.',
      'photos.zip gönderilmedi: bugün oda sahibinin bir kişiden günde kabul ettiği kadar dosya gönderdiniz. UTC 00:00’dan sonra yeniden gönderebilirsiniz.'],
    ['the transfer limit', error('RATE_LIMITED', { retryAfterMs: 500 }), download, limits,
      'photos.zip waits: the host allows 16 transfers at once per person. Retry when others are done.',
      'photos.zip bekliyor: oda sahibi kişi başına aynı anda 16 aktarıma izin veriyor. Diğerleri bitince yeniden deneyin.'],
    ['the transfer limit, no limit announced', error('RATE_LIMITED'), download, undefined,
      'photos.zip waits: too many of your transfers are under way at once. Retry when others are done.',
      'photos.zip bekliyor: aynı anda çok fazla aktarımınız var. Diğerleri bitince yeniden deneyin.'],
    ['the limits on unfinished uploads', error('LIMIT_REACHED'), upload, limits,
      'photos.zip waits: you have as many unfinished uploads as the host keeps per person (at most 20, 1 GB together). Let one finish or dismiss it, then retry.',
      'photos.zip bekliyor: oda sahibinin kişi başına tuttuğu kadar bitmemiş yüklemeniz var (en fazla 20, toplam 1 GB). Birinin bitmesini bekleyin ya da kapatın, sonra yeniden deneyin.'],
    ['the limits on unfinished uploads, none announced', error('LIMIT_REACHED'), upload, undefined,
      'photos.zip waits: you have as many unfinished uploads as the host keeps per person. Let one finish or dismiss it, then retry.',
      'photos.zip bekliyor: oda sahibinin kişi başına tuttuğu kadar bitmemiş yüklemeniz var. Birinin bitmesini bekleyin ya da kapatın, sonra yeniden deneyin.'],
    ['a download the host no longer has, and why', error('UNKNOWN_FILE'), download, limits,
      'The host no longer has photos.zip: its message was deleted, or you may no longer read it.',
      'Oda sahibinde photos.zip artık yok: iletisi silindi ya da artık okuyamıyorsunuz.'],
    ['an upload the host no longer has', error('UNKNOWN_FILE'), upload, limits,
      'The host no longer has what was sent of photos.zip; send it again.',
      'Oda sahibinde photos.zip için gönderilenler artık yok; dosyayı yeniden gönderin.'],
    ['damaged on the way', error('HASH_MISMATCH'), upload, limits,
      'photos.zip arrived damaged and was removed; try again.',
      'photos.zip bozuk ulaştı ve silindi; yeniden deneyin.'],
    ['this computer’s full disk', error('DISK_FULL'), download, limits,
      'photos.zip could not be saved: this computer’s disk is full. Free some space, then Retry.',
      'photos.zip kaydedilemedi: bu bilgisayarın diski dolu. Biraz yer açın, sonra yeniden deneyin.'],
    ['another failure to save it', error('SAVE_FAILED', { message: 'EACCES: permission denied' }), download, limits,
      'photos.zip could not be saved on this computer (EACCES: permission denied).',
      'photos.zip bu bilgisayara kaydedilemedi (EACCES: permission denied).'],
  ];
  for (const [what, failure, about, known, english, turkish] of cases) {
    it(`${what}: names the file and the limit`, async () => {
      await i18n.changeLanguage('en');
      expect(fileErrorText(i18n.t, failure, about, known, 'en')).toBe(english);
      await i18n.changeLanguage('tr');
      expect(fileErrorText(i18n.t, failure, about, known, 'tr')).toBe(turkish);
    });
  }

  it('takes the file’s name from sendFiles’ error, which says which of the files it is', async () => {
    await i18n.changeLanguage('tr');
    expect(fileErrorText(i18n.t, error('FILE_TOO_LARGE', { file: 'video.dat' }), { direction: 'upload' }, limits, 'tr')).toBe(
      'video.dat çok büyük: oda sahibi en fazla 1 MB boyutunda dosya kabul ediyor.',
    );
  });

  it('words other errors, and file errors about no file known here, as errorText does', async () => {
    await i18n.changeLanguage('tr');
    expect(fileErrorText(i18n.t, error('BAD_TOKEN'), download, limits, 'tr')).toBe('Oturumunuz sona erdi; parolanızla yeniden katılın.');
    expect(fileErrorText(i18n.t, error('UNKNOWN_FILE'), { direction: 'download' }, limits, 'tr')).toBe('Oda sahibinde bu dosya artık yok.');
  });
});
