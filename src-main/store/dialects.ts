/** What the SQL of SQLite and of PostgreSQL does differently, for the queries written once (query.ts). */
import type { Dialect } from './query.js';
import { storedText } from './pg/text.js';
import { storedFold } from './searched-text.js';

export const sqliteDialect: Dialect = {
  list: (param) => `(SELECT value FROM json_each(${param}))`,
  greatest: 'max',
  forUpdate: '',
  nextEventId: `(SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages')`,
  // Ids above the sequence's; inserting them moves it (the one writer holds them until then).
  eventIds: (count) =>
    `WITH RECURSIVE drawn (id) AS (SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages' UNION ALL SELECT id + 1 FROM drawn LIMIT ${count}) SELECT id FROM drawn`,
  lastEventId: `(SELECT seq FROM sqlite_sequence WHERE name = 'messages')`,
  text: (value) => value,
  folded: storedFold,
  jsonArray: (value, order) => `json_group_array(${value} ORDER BY ${order})`,
  json: (text) => `json(${text})`,
  jsonObject: 'json_object',
  records: (param, columns) => `(SELECT ${columns.map(([name], index) => `value->>${index} AS ${name}`).join(', ')} FROM json_each(${param}))`,
  together: (statements) => [...statements],
};

export const pgDialect: Dialect = {
  list: (param, type) => `(SELECT unnest(${param}::${type}[]) AS value)`,
  greatest: 'greatest',
  forUpdate: 'FOR UPDATE',
  nextEventId: `nextval('messages_id_seq')`,
  eventIds: (count) => `SELECT nextval('messages_id_seq') AS id FROM generate_series(1, ${count})`,
  lastEventId: `(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM messages_id_seq)`,
  text: storedText,
  folded: (_text, folded) => storedText(folded),
  jsonArray: (value, order) => `coalesce(json_agg(${value} ORDER BY ${order}), '[]')::text`,
  json: (text) => `(${text})::json`,
  jsonObject: 'json_build_object',
  records: (param, columns) =>
    `(SELECT ${columns.map(([name, type], index) => `(value->>${index})::${type} AS ${name}`).join(', ')} FROM json_array_elements(${param}::json))`,
  together: (statements) => [
    statements.length === 1 ? statements[0]! : `WITH ${statements.slice(0, -1).map((text, index) => `w${index} AS (${text})`).join(',\n')}\n${statements.at(-1)!}`,
  ],
};
