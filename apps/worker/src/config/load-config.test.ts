import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigValidationError } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfigPath } from './load-config';
import { substituteEnv } from './substitute-env';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'utt-config-'));
  const file = path.join(dir, 'utt.config.yaml');
  await writeFile(file, text);
  return file;
}

async function configError(text: string, env: Record<string, string> = {}): Promise<ConfigValidationError> {
  const error = await loadConfig(await configFile(text), env).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ConfigValidationError.isInstance(error)).toBe(true);
  return error as ConfigValidationError;
}

describe('substituteEnv', () => {
  it('replaces ${VAR} and ${VAR:-default}, keeps $${ literal, and records missing variables by path', () => {
    const result = substituteEnv(
      { a: '${HOST}:${PORT:-5432}', b: ['$${NOT_A_VAR}', '${GONE}'], c: 3 },
      { HOST: 'db.internal' },
    );
    expect(result.value).toEqual({ a: 'db.internal:5432', b: ['${NOT_A_VAR}', ''], c: 3 });
    expect(result.missing).toEqual([{ path: 'b[1]', variable: 'GONE' }]);
  });

  it('collects the values of secret-looking variables for redaction, not of others', () => {
    const result = substituteEnv({ key: '${OPENAI_ADMIN_KEY}', url: '${PROMETHEUS_URL}' }, { OPENAI_ADMIN_KEY: 'sk-admin-1', PROMETHEUS_URL: 'http://p' });
    expect([...result.secrets]).toEqual(['sk-admin-1']);
  });

  it('treats an empty variable as unset, so ${VAR:-default} falls back', () => {
    expect(substituteEnv('${EMPTY:-fallback}', { EMPTY: '' }).value).toBe('fallback');
  });
});

describe('loadConfig', () => {
  it('applies defaults for an empty file: embedded database, 15 s HTTP deadline, no sources', async () => {
    const { config } = await loadConfig(await configFile(''), {});
    expect(config.database).toEqual({ schema: 'utt', path: '.utt/pglite' });
    expect(config.worker).toMatchObject({ httpDeadline: 15_000, interval: 900_000, maxBackfill: 86_400_000 });
    expect(config.sources).toEqual([]);
  });

  it('parses durations and lets DATABASE_URL override database.url; its password becomes a secret', async () => {
    const loaded = await loadConfig(await configFile('database: { url: "postgres://a@b/c" }\nworker: { settle: 2d, httpDeadline: 1500ms }\n'), {
      DATABASE_URL: 'postgres://utt:hunter2pass@db:5432/utt',
    });
    expect(loaded.config.database.url).toBe('postgres://utt:hunter2pass@db:5432/utt');
    expect(loaded.config.worker.settle).toBe(172_800_000);
    expect(loaded.config.worker.httpDeadline).toBe(1500);
    expect(loaded.secrets.has('hunter2pass')).toBe(true);
  });

  it('names every bad path at once and never echoes values', async () => {
    const error = await configError(
      'worker: { interval: soon }\nsources:\n  - { name: "a b", adapter: x }\n  - { name: ok, adapter: "", colour: red }\n',
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^worker\.interval: invalid duration/),
        expect.stringMatching(/^sources\[0\]\.name: /),
        expect.stringMatching(/^sources\[1\]\.adapter: required/),
        expect.stringMatching(/^sources\[1\]: .*colour/),
      ]),
    );
  });

  it('refuses duplicate source names', async () => {
    const error = await configError('sources:\n  - { name: a, adapter: x }\n  - { name: a, adapter: y }\n');
    expect(error.issues).toEqual(['sources[1].name: duplicate source name "a"']);
  });

  it('reports a missing variable where an enabled source needs it, and ignores it for a disabled one', async () => {
    const text = 'sources:\n  - { name: a, adapter: x, config: { key: "${A_KEY}" } }\n  - { name: b, adapter: y, enabled: false, config: { key: "${B_KEY}" } }\n';
    const error = await configError(text);
    expect(error.issues).toEqual(['sources[0].config.key: environment variable A_KEY is not set']);
    const loaded = await loadConfig(await configFile(text), { A_KEY: 'sk-a' });
    expect(loaded.config.sources.map((source) => source.name)).toEqual(['a', 'b']);
  });

  it('names the YAML line of a syntax error and the file', async () => {
    const error = await configError('sources:\n  - name: a\n   adapter: [\n');
    expect(error.message).toContain('utt.config.yaml');
    expect(error.issues[0]).toMatch(/^line \d+, column \d+/);
  });

  it('says how to point at a config when the file is missing', async () => {
    const error = (await loadConfig('/nonexistent/utt.config.yaml', {}).catch((caught: unknown) => caught)) as ConfigValidationError;
    expect(error.message).toContain('file not found (pass --config FILE or set UTT_CONFIG)');
  });

  it('resolves --config, then UTT_CONFIG, then ./utt.config.yaml', () => {
    expect(resolveConfigPath('a.yaml', { UTT_CONFIG: 'b.yaml' }, '/w')).toBe('/w/a.yaml');
    expect(resolveConfigPath(undefined, { UTT_CONFIG: 'b.yaml' }, '/w')).toBe('/w/b.yaml');
    expect(resolveConfigPath(undefined, {}, '/w')).toBe('/w/utt.config.yaml');
  });
});

describe('loadConfig against a YAML alias bomb', () => {
  /** `levels` lines, each a list of nine aliases of the line before: 9^levels values once expanded. */
  function aliasBomb(levels: number): string {
    const lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} [${Array(9).fill(`*l${level - 1}`).join(',')}]`);
    return `${lines.join('\n')}\n`;
  }

  it('refuses a config that expands to more than 100,000 values, before substituting variables', async () => {
    // 9^6 = 531,441 values: small enough to expand, so before the bound it reached the schema.
    const error = await configError(aliasBomb(6));
    expect(error.issues).toEqual(['expands to more than 100,000 values (nested YAML aliases?); refused before substituting variables']);
  });

  it('refuses the 1 KB bomb (9^9 values, gigabytes expanded) quickly and within bounded memory', async () => {
    const text = aliasBomb(9);
    expect(text.length).toBeLessThan(1_024);
    const started = Date.now();
    const error = await configError(text);
    expect(error.message).toContain('nested YAML aliases');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('still allows anchors and aliases in a config of ordinary size', async () => {
    const loaded = await loadConfig(
      await configFile('worker: &w\n  interval: 5m\nsources:\n  - name: a\n    adapter: x\n    config: &c { plans: [] }\n  - name: b\n    adapter: x\n    config: *c\n'),
      {},
    );
    expect(loaded.config.sources.map((source) => source.config)).toEqual([{ plans: [] }, { plans: [] }]);
  });
});
