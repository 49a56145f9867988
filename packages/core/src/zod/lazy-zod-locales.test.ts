import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The built package: only its build loads the locales but English lazily (tsup.config.ts).
const built = new URL('../../dist/index.js', import.meta.url);
const zodLocales = createRequire(import.meta.url)('zod/v4/locales') as Record<string, () => { localeError: (issue: unknown) => unknown }>;

describe('z.locales of the built @utt/core', () => {
  it("lists zod's locales, and each answers as zod's own", async () => {
    const { z } = (await import(built.href)) as typeof import('../index');
    const locales = z.locales as unknown as Record<string, () => { localeError: (issue: unknown) => unknown }>;
    expect(Object.keys(locales).sort()).toEqual(Object.keys(zodLocales).sort());
    expect(Object.keys(z.core.locales).sort()).toEqual(Object.keys(zodLocales).sort());
    const issue = { code: 'invalid_type', expected: 'string', input: 5 };
    for (const name of Object.keys(zodLocales)) expect(locales[name]?.().localeError(issue)).toEqual(zodLocales[name]?.().localeError(issue));
  });

  it('loads the locales but English only when one is asked for, and z.config() takes it', () => {
    const script = [
      `const { z } = await import(${JSON.stringify(built.href)});`,
      "const { createRequire } = await import('node:module');",
      "const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.endsWith('zod-locales.cjs'));",
      'const before = loaded();',
      "const english = z.string().safeParse(5).error.issues[0].message;",
      'z.config(z.locales.de());',
      "const german = z.string().safeParse(5).error.issues[0].message;",
      'process.stdout.write(JSON.stringify({ before, english, german, after: loaded() }));',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      before: false,
      english: 'Invalid input: expected string, received number',
      german: 'Ungültige Eingabe: erwartet string, erhalten Zahl',
      after: true,
    });
  });
});
