/**
 * `lanchat-host backup`: an online backup of a host alone (docs/DEPLOYMENT.md, "Backup and restore"),
 * taken while it runs and its users send. The database through SQLite's backup API (better-sqlite3's
 * `backup()`: a snapshot of what was committed, never a file caught mid-write), then the room's key and
 * certificate and its files, into a new folder laid out as a data folder: restoring is starting a host
 * on it (or copying it into the data folder of a stopped host). The search index is not copied: a host
 * builds it again from the messages. A clustered room's database is PostgreSQL's to back up (pg_dump).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3-multiple-ciphers';
import { HOST_OPTIONS } from './host-args.js';
import { readConfigFile, readEnvironment, SettingsError } from './host-config.js';

export const BACKUP_USAGE = [
  'usage: lanchat-host backup [--config <file>] [--data <dir>] [--files-dir <dir>] --to <new folder>',
  '  copies a host\'s room while it runs: the database (chat.sqlite, through SQLite\'s backup API), the room\'s',
  '  key and certificate (tls-key.pem, tls-cert.pem) and its files (files/), into a folder that did not exist,',
  '  readable by its owner only. The data folder and files folder are the host\'s (--config, LANCHAT_DATA, …).',
  '  Restore: stop the host and start it on a copy of that folder (docs/DEPLOYMENT.md, "Backup and restore").',
].join('\n');

/** The room's own files, copied beside the database when they exist. */
const IDENTITY_FILES = ['tls-key.pem', 'tls-cert.pem'];
/** Pages copied by the backup's later steps: the rest at once, one read of the database, not a step restarted by every send. */
const ALL_PAGES = 2 ** 30;

export interface BackupResult {
  folder: string;
  databaseBytes: number;
  files: number;
}

/** Copies the room in `dataDir` (its files in `filesDir`, default `<dataDir>/files`) into `to`, which must not exist. */
export async function backupRoom(dataDir: string, to: string, filesDir = join(dataDir, 'files')): Promise<BackupResult> {
  const database = join(dataDir, 'chat.sqlite');
  if (!existsSync(database)) throw new BackupError(`no room in ${dataDir}: it has no chat.sqlite`);
  if (existsSync(to)) throw new BackupError(`${to} exists already: a backup goes into a new folder`);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const source = new Database(database, { readonly: true, fileMustExist: true });
  let databaseBytes: number;
  try {
    // Written under another name first: a backup cut short never looks like a room.
    const partial = join(to, 'chat.sqlite.partial');
    const { totalPages } = await source.backup(partial, { progress: () => ALL_PAGES });
    databaseBytes = totalPages * (source.pragma('page_size', { simple: true }) as number);
    chmodSync(partial, 0o600);
    renameSync(partial, join(to, 'chat.sqlite'));
  } finally {
    source.close();
  }
  for (const name of IDENTITY_FILES) {
    if (existsSync(join(dataDir, name))) cpSync(join(dataDir, name), join(to, name), { preserveTimestamps: true });
  }
  let files = 0;
  if (existsSync(filesDir)) {
    // After the database: a file it names was there when it was copied (unless deleted meanwhile).
    cpSync(filesDir, join(to, 'files'), { recursive: true, preserveTimestamps: true });
    files = countFiles(join(to, 'files'));
  }
  return { folder: to, databaseBytes, files };
}

export class BackupError extends Error {}

function countFiles(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => sum + (entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1), 0);
}

/** Runs the command line (after `backup`); resolves to the exit status. */
export async function runBackupCli(args: string[], io: { env: NodeJS.ProcessEnv; print(line: string): void; printError(line: string): void }): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string' }, data: { type: 'string' }, 'files-dir': { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      io.print(BACKUP_USAGE);
      return 0;
    }
    const readText = (path: string): string => readFileSync(path, 'utf8');
    const configPath = values.config ?? io.env.LANCHAT_CONFIG;
    const fromEnv = readEnvironment(io.env, HOST_OPTIONS, readText);
    const fromFile = configPath !== undefined ? readConfigFile(configPath, readText(configPath), HOST_OPTIONS, readText) : new Map();
    const setting = (name: string): string | undefined => {
      const value = (fromEnv.get(name) ?? fromFile.get(name))?.value;
      return typeof value === 'string' ? value : undefined;
    };
    if (setting('postgres') !== undefined && values.data === undefined) {
      throw new BackupError('this host is a node of a clustered room: its database is PostgreSQL, backed up with pg_dump (docs/DEPLOYMENT.md, "Backup and restore")');
    }
    const data = values.data ?? setting('data');
    if (data === undefined) throw new BackupError('which room? give --data <dir> or --config <file>');
    if (values.to === undefined) throw new BackupError('--to <new folder> is required');
    const filesDir = values['files-dir'] ?? setting('files-dir');
    const result = await backupRoom(resolve(data), resolve(values.to), filesDir !== undefined ? resolve(filesDir) : undefined);
    io.print(`backed up ${resolve(data)} to ${result.folder}: database ${result.databaseBytes} bytes, ${result.files} files`);
    return 0;
  } catch (error) {
    if (error instanceof BackupError || error instanceof SettingsError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.printError(`error: ${(error as Error).message}\n${BACKUP_USAGE}`);
      return 2;
    }
    io.printError(`error: the backup failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
