/**
 * The server log: one JSON line per event in <data>/server.log with an ISO time,
 * and the same entries to in-process listeners (the host panel shows them live).
 * Rotated by size (server.log.1 the newest of the older files), or reopened on request
 * after an outside tool such as logrotate moved it (docs/DEPLOYMENT.md, "The log").
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
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

export interface LogRotation {
  /** Past this many bytes the file is renamed server.log.1 and a new one begun; Infinity: never. */
  maxBytes: number;
  /** How many rotated files are kept (server.log.1 … server.log.<keep>); older ones are deleted by being renamed over. */
  keep: number;
}

export class ServerLog {
  private readonly logger: pino.Logger | null;
  private readonly listeners = new Set<LogListener>();
  private fd: number | null = null;
  /** Bytes in the open file, counted to know when to rotate. */
  private size = 0;
  /** Why the file last refused a line; null while it takes them. */
  private failing: string | null = null;
  /** The file ends in part of a line: the next line starts on a new one. */
  private cut = false;

  /** With no file, entries only reach listeners. The file is readable by its owner only. */
  constructor(
    private readonly file: string | null,
    private readonly rotation: LogRotation = { maxBytes: Infinity, keep: 0 },
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.open(file);
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

  /** Closes the file and opens it again by its name: after logrotate moved it away (SIGHUP), lines go to a new one. */
  reopen(): void {
    if (this.fd === null || this.file === null) return;
    const old = this.fd;
    try {
      this.open(this.file);
    } catch (error) {
      // Lines keep going to the old file rather than nowhere.
      this.tell('error', 'log file not reopened', { reason: (error as NodeJS.ErrnoException).code ?? String(error) });
      return;
    }
    closeSync(old);
  }

  private open(file: string): void {
    const fd = openSync(file, 'a', 0o600);
    fchmodSync(fd, 0o600);
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  /**
   * server.log becomes server.log.1, each older one moves up a number, the one past `keep` is overwritten.
   * A rename that fails (the folder unwritable) leaves the file growing rather than losing lines.
   */
  private rotate(file: string): void {
    const { keep } = this.rotation;
    try {
      for (let n = keep - 1; n >= 1; n -= 1) {
        try {
          renameSync(`${file}.${n}`, `${file}.${n + 1}`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      renameSync(file, `${file}.1`);
    } catch (error) {
      this.tell('error', 'log file not rotated', { reason: (error as NodeJS.ErrnoException).code ?? String(error) });
      this.size = 0;
      return;
    }
    this.reopen();
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
    if (this.file !== null && this.size > 0 && this.size + bytes.length > this.rotation.maxBytes) this.rotate(this.file);
    try {
      const written = writeSync(this.fd!, bytes);
      this.size += written;
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
