/**
 * The server log: one JSON line per event in <data>/server.log with an ISO time,
 * and the same entries to in-process listeners (the host panel shows them live).
 */
import { closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export type LogListener = (entry: LogEntry) => void;

export class ServerLog {
  private readonly logger: pino.Logger | null;
  private readonly listeners = new Set<LogListener>();
  private fd: number | null = null;
  /** Why the file last refused a line; null while it takes them. */
  private failing: string | null = null;
  /** The file ends in part of a line: the next line starts on a new one. */
  private cut = false;

  /** With no file, entries only reach listeners. The file is readable by its owner only. */
  constructor(file: string | null) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      const fd = openSync(file, 'a', 0o600);
      fchmodSync(fd, 0o600);
      this.fd = fd;
      this.logger = pino(
        { base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
        { write: (line: string) => this.append(line) },
      );
    } else {
      this.logger = null;
    }
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.write('info', event, fields);
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.write('error', event, fields);
  }

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private write(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    this.logger?.[level]({ event, ...fields });
    this.tell(level, event, fields);
  }

  private tell(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    if (this.listeners.size === 0) return;
    const entry: LogEntry = { time: new Date().toISOString(), level, event, ...fields };
    for (const listener of this.listeners) listener(entry);
  }

  /**
   * A line the file cannot take (a full disk) is dropped: the log must never take
   * the host down. The listeners hear once that the file stopped, and once that it
   * took lines again; every line is tried, so it resumes as soon as there is room.
   */
  private append(line: string): void {
    if (this.fd === null) return;
    const bytes = Buffer.from(this.cut ? `\n${line}` : line);
    try {
      const written = writeSync(this.fd, bytes);
      if (written < bytes.length) {
        if (written > 0) this.cut = true;
        throw Object.assign(new Error('the disk took only part of the line'), { code: 'ENOSPC' });
      }
      this.cut = false;
    } catch (error) {
      if (this.failing === null) {
        this.failing = (error as NodeJS.ErrnoException).code ?? String(error);
        this.tell('error', 'log file unwritable', { reason: this.failing });
      }
      return;
    }
    if (this.failing !== null) {
      this.failing = null;
      this.tell('warn', 'log file writable again', {});
    }
  }
}
