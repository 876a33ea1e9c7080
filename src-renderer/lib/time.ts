const pad = (value: number) => String(value).padStart(2, '0');

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * `ts` in `language` as `options` say. Each formatter is made once: making one costs far more than
 * formatting with it, and every visible message row formats its time again at each render (a room
 * flooded with 700 messages spent 5 of its 23 s in the window making them).
 */
export function formatDate(ts: number, language: string, options: Intl.DateTimeFormatOptions): string {
  const key = `${language} ${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(language, options);
    formats.set(key, format);
  }
  return format.format(ts);
}

/** "HH:MM" in local time, the same in every language. */
export function formatTime(ts: number): string {
  const date = new Date(ts);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function startOfDay(ts: number): number {
  const date = new Date(ts);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

function daysBetween(earlier: number, later: number): number {
  return Math.round((startOfDay(later) - startOfDay(earlier)) / 86_400_000);
}

export type DayName = { relative: 'today' | 'yesterday' } | { date: string };

/** Names a day for a separator: today, yesterday, or its date in the UI language. */
export function nameDay(ts: number, now: number, language: string): DayName {
  const ago = daysBetween(ts, now);
  if (ago === 0) return { relative: 'today' };
  if (ago === 1) return { relative: 'yesterday' };
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  const options: Intl.DateTimeFormatOptions = sameYear
    ? { weekday: 'long', day: 'numeric', month: 'long' }
    : { day: 'numeric', month: 'long', year: 'numeric' };
  return { date: formatDate(ts, language, options) };
}

/** "HH:MM" today, with the date before it on other days. */
export function formatMoment(ts: number, now: number, language: string): string {
  if (daysBetween(ts, now) === 0) return formatTime(ts);
  return `${formatDate(ts, language, { day: 'numeric', month: 'short' })} ${formatTime(ts)}`;
}

/** "HH:MM:SS" in local time, for the server log. */
export function formatClock(ts: number): string {
  const date = new Date(ts);
  return `${formatTime(ts)}:${pad(date.getSeconds())}`;
}
