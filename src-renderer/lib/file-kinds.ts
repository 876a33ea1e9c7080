/**
 * The kind of a file in words people read ("Text file", "PDF document"), not a media type. The host
 * types a file from its content (file-type), which knows formats by their first bytes; plain text,
 * CSV or JSON have none and arrive as application/octet-stream, so their name's ending decides.
 */
export type FileKind = 'text' | 'image' | 'video' | 'audio' | 'pdf' | 'archive' | 'document' | 'spreadsheet' | 'presentation' | 'file';

/** Families of the types the host's detector reports. */
const BY_TYPE: [RegExp, FileKind][] = [
  [/^image\//, 'image'],
  [/^video\//, 'video'],
  [/^audio\//, 'audio'],
  [/^application\/pdf$/, 'pdf'],
  [/^text\//, 'text'],
  [/^application\/(zip|gzip|x-tar|x-7z-compressed|x-rar-compressed|x-bzip2|x-xz|zstd|x-lzip)$/, 'archive'],
  [/(wordprocessingml|opendocument\.text|msword|rtf)/, 'document'],
  [/(spreadsheetml|opendocument\.spreadsheet|ms-excel)/, 'spreadsheet'],
  [/(presentationml|opendocument\.presentation|ms-powerpoint)/, 'presentation'],
];

/** Endings of formats without a signature in their bytes, which the detector cannot name. */
const BY_ENDING: Record<string, FileKind> = {
  txt: 'text',
  text: 'text',
  md: 'text',
  log: 'text',
  json: 'text',
  yaml: 'text',
  yml: 'text',
  toml: 'text',
  csv: 'spreadsheet',
  tsv: 'spreadsheet',
  svg: 'image',
};

export function fileKind(name: string, type: string): FileKind {
  const lower = type.toLowerCase();
  for (const [pattern, kind] of BY_TYPE) if (pattern.test(lower)) return kind;
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? BY_ENDING[name.slice(dot + 1).toLowerCase()] : undefined) ?? 'file';
}
