/** What the SQL of SQLite and of PostgreSQL does differently, for the queries written once (query.ts). */
import type { Dialect } from './query.js';
import { storedText } from './pg/text.js';
import { storedFold } from './searched-text.js';

export const sqliteDialect: Dialect = {
  list: (param) => `(SELECT value FROM json_each(${param}))`,
  greatest: 'max',
  forUpdate: '',
  nextEventId: `(SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages')`,
  lastEventId: `(SELECT seq FROM sqlite_sequence WHERE name = 'messages')`,
  text: (value) => value,
  folded: storedFold,
  jsonArray: (value, order) => `json_group_array(${value} ORDER BY ${order})`,
  json: (text) => `json(${text})`,
  jsonObject: 'json_object',
};

export const pgDialect: Dialect = {
  list: (param, type) => `(SELECT unnest(${param}::${type}[]) AS value)`,
  greatest: 'greatest',
  forUpdate: 'FOR UPDATE',
  nextEventId: `nextval('messages_id_seq')`,
  lastEventId: `(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM messages_id_seq)`,
  text: storedText,
  folded: (_text, folded) => storedText(folded),
  jsonArray: (value, order) => `coalesce(json_agg(${value} ORDER BY ${order}), '[]')::text`,
  json: (text) => `(${text})::json`,
  jsonObject: 'json_build_object',
};
