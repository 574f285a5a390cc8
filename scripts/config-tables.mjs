// Rewrites the generated config tables (<!-- config-table --> … <!-- /config-table -->) of
// README.md and docs/cli.md from the one config declaration. Run after `npm run build`:
// `node scripts/config-tables.mjs`. test/unit/config-declaration.test.ts checks they match.
import fs from 'node:fs';
import { configTable } from '../dist/config/help.js';

for (const file of ['README.md', 'docs/cli.md']) {
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(/(<!-- config-table[^>]*-->\n)[\s\S]*?(\n<!-- \/config-table -->)/, (_m, open, close) => `${open}${configTable()}${close}`);
  if (next !== text) fs.writeFileSync(file, next);
  console.log(`${file}: ${next === text ? 'up to date' : 'rewritten'}`);
}
