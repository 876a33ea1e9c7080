/**
 * The server log: one JSON line per event in <data>/server.log with an ISO time,
 * and the same entries to in-process listeners (the host panel shows them live).
 */
import { mkdirSync } from 'node:fs';
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

  /** With no file, entries only reach listeners. */
  constructor(file: string | null) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.logger = pino(
        { base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
        pino.destination({ dest: file, sync: true }),
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

  private write(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    this.logger?.[level]({ event, ...fields });
    if (this.listeners.size === 0) return;
    const entry: LogEntry = { time: new Date().toISOString(), level, event, ...fields };
    for (const listener of this.listeners) listener(entry);
  }
}
