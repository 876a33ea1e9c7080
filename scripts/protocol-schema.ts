/** Writes docs/protocol.schema.json from the protocol's zod tables (npm run schema). */
import { writeFileSync } from 'node:fs';
import { protocolJsonSchema } from '../src-shared/protocol/json-schema.js';

const file = new URL('../docs/protocol.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
