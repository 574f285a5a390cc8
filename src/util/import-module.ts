// Imports a JavaScript or TypeScript module by path. TypeScript goes through tsx (loaded only
// when a .ts file is imported), and a module compiled from ESM syntax to CommonJS (a package
// without "type": "module") is unwrapped so its exports look the same either way.
import { pathToFileURL } from 'node:url';

export async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  let ns: Record<string, unknown>;
  if (/\.[cm]?ts$/.test(file)) {
    const { tsImport } = await import('tsx/esm/api');
    ns = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  } else {
    ns = (await import(url)) as Record<string, unknown>;
  }
  const inner = ns.default as Record<string, unknown> | undefined;
  return inner && typeof inner === 'object' && inner.__esModule ? inner : ns;
}
