/**
 * The schema's versions, in order, for both engines: to add one, write `NNN-what.ts` beside these
 * (a `Migration`, with its test `NNN-what.test.ts`) and list it at the end. Versions 11 and 12 were
 * never released. SQLite applies them in sqlite.ts, PostgreSQL in postgres.ts.
 */
import type { Migration } from './migration.js';
import m001 from './001-init.js';
import m002 from './002-fts.js';
import m003 from './003-access.js';
import m004 from './004-messages-by-sender.js';
import m005 from './005-name-skeletons.js';
import m006 from './006-bounded-fold.js';
import m007 from './007-daily-usage.js';
import m008 from './008-group-invitations.js';
import m009 from './009-conversation-changes.js';
import m010 from './010-files.js';
import m013 from './013-short-needle-index.js';
import m014 from './014-messages-are-their-log-entries.js';
import m015 from './015-search-index-off-the-send-path.js';
import m016 from './016-upload-reservations.js';
import m017 from './017-text-folded-once.js';
import m018 from './018-mls.js';
import m019 from './019-file-chunks.js';
import m020 from './020-call-lines.js';
import m021 from './021-mls-files.js';
import m022 from './022-last-resort-key-packages.js';

export const migrations: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m013, m014, m015, m016, m017, m018, m019, m020, m021, m022];

export const LATEST_VERSION = migrations.at(-1)!.version;
