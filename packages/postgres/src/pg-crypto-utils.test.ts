import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type CryptoUtils = Record<string, (...args: unknown[]) => unknown>;
const lazyUtils = require('./pg-crypto-utils.cjs') as CryptoUtils;
const pgUtils = require('pg/lib/crypto/utils.js') as CryptoUtils;

describe("pg's crypto helpers, loaded on their first call", () => {
  it("offer every helper of pg's module, and answer as it does", async () => {
    expect(Object.keys(lazyUtils).sort()).toEqual(Object.keys(pgUtils).sort());
    const salt = Buffer.from([1, 2, 3, 4]);
    expect(await lazyUtils.postgresMd5PasswordHash?.('utt', 'secret', salt)).toBe(await pgUtils.postgresMd5PasswordHash?.('utt', 'secret', salt));
    expect(Buffer.from((await lazyUtils.sha256?.(Buffer.from('utt'))) as ArrayBuffer)).toEqual(Buffer.from((await pgUtils.sha256?.(Buffer.from('utt'))) as ArrayBuffer));
    expect((lazyUtils.randomBytes?.(18) as Buffer).length).toBe(18);
  });

  it('keep node:crypto out of a process that loads the bundled driver and authenticates without a password', () => {
    // As loadPg() loads dist/pg-driver.cjs on Node 20 (a navigator stand-in: without one pg's Cloudflare
    // check loads Node's fetch, which loads node:crypto itself). moduleLoadList: the built-ins loaded so far.
    // A module, not a CommonJS -e script: Node loads node:crypto for those itself.
    const script = [
      "const { createRequire } = await import('node:module');",
      "globalThis.navigator ??= { userAgent: 'node' };",
      `const pg = createRequire(import.meta.url)(${JSON.stringify(require.resolve('../dist/pg-driver.cjs'))});`,
      "if (typeof pg.Client !== 'function') throw new Error('no Client');",
      "process.stdout.write(String(process.moduleLoadList.includes('NativeModule crypto')));",
    ].join('\n');
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('false');
  });
});
