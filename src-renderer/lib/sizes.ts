/**
 * Sizes as people type them into a form ("500 MB", "1.5 GB", "2,5 GB", "800"), to bytes and back,
 * in units of 1024 like formatSize and the host's messages. A bare number is megabytes.
 */
const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const GB = UNITS['g']!;
const MB = UNITS['m']!;

/** The language's decimal separator: "." in English, "," in Turkish. */
function decimalSeparator(language: string): string {
  return new Intl.NumberFormat(language).formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? '.';
}

/**
 * "1,5" is one and a half, "1,000" (or "1.000" in Turkish) a thousand: a separator that is not the
 * language's decimal one and is followed by exactly three digits groups thousands; otherwise it is the decimal point.
 */
function plainNumber(text: string, language: string): string {
  const separators = text.match(/[.,]/g) ?? [];
  if (separators.length === 0) return text;
  const kinds = new Set(separators);
  if (kinds.size === 2) {
    const decimal = text[Math.max(text.lastIndexOf('.'), text.lastIndexOf(','))]!;
    const [whole = '', fraction = ''] = text.split(decimal);
    return `${whole.replace(/[.,]/g, '')}.${fraction}`;
  }
  const separator = separators[0]!;
  const grouping = separator !== decimalSeparator(language) && /^\d{1,3}([.,]\d{3})+$/.test(text);
  if (grouping) return text.replaceAll(separator, '');
  return separators.length === 1 ? text.replace(separator, '.') : text;
}

/**
 * Bytes from a typed size: undefined for an empty field, null for one that is not a size above 0.
 * Units: B, KB, MB, GB, TB (also K, M, G, T, MiB…), any case.
 */
export function parseSize(text: string, language: string): number | undefined | null {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const match = /^(\d[\d.,]*)\s*(?:([bkmgt])(?:i?b)?)?$/i.exec(trimmed);
  if (!match) return null;
  const value = Number(plainNumber(match[1]!, language));
  const bytes = Math.round(value * UNITS[(match[2] ?? 'm').toLowerCase()]!);
  return Number.isFinite(value) && bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

/** A size to fill a field with that parseSize gives back exactly: "2 GB", "1.5 MB", "900 B". */
export function sizeText(bytes: number, language: string): string {
  const format = (unit: number) => new Intl.NumberFormat(language, { maximumFractionDigits: 3, useGrouping: false }).format(bytes / unit);
  for (const [unit, name] of [[GB, 'GB'], [MB, 'MB']] as const) {
    const text = `${format(unit)} ${name}`;
    if (bytes >= unit && parseSize(text, language) === bytes) return text;
  }
  return `${bytes} B`;
}

/** The file limits the Host room form asks for, in the order it shows them. */
export const FILE_LIMIT_FIELDS = ['maxFileBytes', 'maxFileStorageBytes', 'maxFileBytesPerDay'] as const;
export type FileLimitField = (typeof FILE_LIMIT_FIELDS)[number];
export type FileLimitTexts = Record<FileLimitField, string>;

/** The typed limits in bytes (those left empty are left out), or which field is wrong and how. */
export function readFileLimits(
  texts: FileLimitTexts,
  language: string,
): { ok: true; limits: Partial<Record<FileLimitField, number>> } | { ok: false; field: FileLimitField; problem: 'badSize' | 'fileOverStorage' } {
  const limits: Partial<Record<FileLimitField, number>> = {};
  for (const field of FILE_LIMIT_FIELDS) {
    const bytes = parseSize(texts[field], language);
    if (bytes === null) return { ok: false, field, problem: 'badSize' };
    if (bytes !== undefined) limits[field] = bytes;
  }
  const { maxFileBytes, maxFileStorageBytes } = limits;
  if (maxFileBytes !== undefined && maxFileStorageBytes !== undefined && maxFileBytes > maxFileStorageBytes) {
    return { ok: false, field: 'maxFileBytes', problem: 'fileOverStorage' };
  }
  return { ok: true, limits };
}
