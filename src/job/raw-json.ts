// Edits the top level of a JSON object *as text*, so every value it does not touch keeps its
// exact bytes: big integers, escapes, key order, `[]` vs `{}`. Used for every payload rewrite
// (retry, dead, schedule promotion) instead of JSON.stringify(JSON.parse(raw)).

interface Member {
  key: string;
  start: number;
  end: number;
  valueStart: number;
}

/** The top-level members of a JSON object text, in order. Throws if `raw` is not a JSON object. */
export function topLevelMembers(raw: string): Member[] {
  const parsed = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('payload is not a JSON object');
  const members: Member[] = [];
  let i = raw.indexOf('{') + 1;
  const skipWs = () => {
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\n' || raw[i] === '\r' || raw[i] === '\t')) i++;
  };
  const skipString = () => {
    i++; // opening quote
    while (raw[i] !== '"') i += raw[i] === '\\' ? 2 : 1;
    i++;
  };
  for (;;) {
    skipWs();
    if (raw[i] === '}') break;
    if (raw[i] === ',') {
      i++;
      skipWs();
    }
    const start = i;
    skipString();
    const key = JSON.parse(raw.slice(start, i)) as string;
    skipWs();
    i++; // colon
    skipWs();
    const valueStart = i;
    let depth = 0;
    while (i < raw.length) {
      const c = raw[i];
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      i++;
    }
    let end = i;
    while (end > valueStart && /\s/.test(raw[end - 1])) end--;
    members.push({ key, start, end, valueStart });
  }
  return members;
}

/**
 * Returns `raw` with the given top-level keys set (JSON.stringify of the value) or removed
 * (value `undefined`). Untouched members keep their bytes and order; new keys go at the end.
 */
export function patchJson(raw: string, changes: Record<string, unknown>): string {
  const members = topLevelMembers(raw);
  const parts: string[] = [];
  const written = new Set<string>();
  for (const m of members) {
    if (!Object.hasOwn(changes, m.key)) {
      parts.push(raw.slice(m.start, m.end));
      continue;
    }
    if (written.has(m.key)) continue; // a duplicated key collapses to one
    written.add(m.key);
    const v = changes[m.key];
    if (v !== undefined) parts.push(`${JSON.stringify(m.key)}:${JSON.stringify(v)}`);
  }
  for (const [k, v] of Object.entries(changes)) {
    if (!written.has(k) && v !== undefined) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The exact text of one top-level value, or undefined. */
export function rawMember(raw: string, key: string): string | undefined {
  const m = topLevelMembers(raw).find((x) => x.key === key);
  return m ? raw.slice(m.valueStart, m.end) : undefined;
}
