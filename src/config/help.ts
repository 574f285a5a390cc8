// How the config keys read for people: the help line of each `verk work` flag and the table of
// keys in README.md and docs/cli.md (test/unit/config-docs.test.ts keeps those copies true).
import { CONFIG_DECLARATION, type ConfigKey } from './defaults.js';
import { envOf, flagOf } from './declare.js';
import { CONFIG_KEYS } from './schema.js';

/** The env names a key is read from, strongest last (REDIS_URL, VERK_REDIS_URL). */
export const envNamesOf = (key: ConfigKey): string[] => [...(CONFIG_DECLARATION[key].envAliases ?? []), envOf(key)];

/** The commander flags of a key, e.g. "-q, --queues <list>". */
export function flagSpec(key: ConfigKey): string {
  const d = CONFIG_DECLARATION[key];
  return `${d.short ? `-${d.short}, ` : ''}${flagOf(key)}${'arg' in d && d.arg ? ` ${d.arg}` : ''}`;
}

/** The --help line of a key: what it does, its default and its environment variables. */
export function helpLine(key: ConfigKey): string {
  const d = CONFIG_DECLARATION[key];
  return `${d.help} (default ${d.defaultText}; env ${envNamesOf(key).join(' or ')})`;
}

/** The Markdown table of every key, as README.md and docs/cli.md hold it. */
export function configTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = CONFIG_KEYS.map((key) => {
    const d = CONFIG_DECLARATION[key];
    const flag = `${d.short ? `\`-${d.short}\`, ` : ''}\`${flagOf(key)}\``;
    const env = envNamesOf(key)
      .map((e) => `\`${e}\``)
      .join(', ');
    return `| \`${key}\` | ${flag} | ${env} | \`${cell(d.defaultText)}\` | ${cell(d.help)} |`;
  });
  return ['| key | flag | environment | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
