import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `array.push(...items)` passes every item as a call argument: above roughly
 * 120,000 items V8 throws `RangeError: Maximum call stack size exceeded`. On
 * the data path that made a large window fail every cycle, so non-test source
 * may not spread into push/unshift/splice at all: loop, or use a helper that does.
 */
// A spread as an argument, not one inside an object or array literal argument (`push({ ...row, id })` is one item).
const SPREAD_CALL = /\.(push|unshift|splice)\(\s*(?:[^(){}[\]]*,\s*)?\.\.\./g;

/** Files off the data path whose spreads are bounded by construction (a few dozen help lines). */
const OFF_DATA_PATH = new Set(['apps/worker/src/commands/parse-command-line.ts']);

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !/\.test\.|\.d\.ts$/.test(entry.name)) files.push(full);
    }
  };
  for (const top of ['packages', 'apps', 'bench', 'tooling']) walk(path.join(ROOT, top));
  return files;
}

/** `file:line: text` for every spread into push/unshift/splice in `text`. */
function findSpreadPushes(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    SPREAD_CALL.lastIndex = 0;
    if (SPREAD_CALL.test(line)) found.push(`${file}:${index + 1}: ${line.trim()}`);
  });
  return found;
}

describe('no push(...array) on the data path', () => {
  it('finds the pattern it is meant to find', () => {
    expect(findSpreadPushes('a.ts', 'records.push(...batch);\nrecords.push(record);\nlist.splice(0, 0, ...more);\nx.unshift( ...y)\nrows.push({ id, ...row }, [a, ...b]);')).toEqual([
      'a.ts:1: records.push(...batch);',
      'a.ts:3: list.splice(0, 0, ...more);',
      'a.ts:4: x.unshift( ...y)',
    ]);
  });

  it('no source file (tests aside) spreads into push, unshift or splice', () => {
    const found = sourceFiles()
      .map((file) => path.relative(ROOT, file))
      .filter((file) => !OFF_DATA_PATH.has(file))
      .flatMap((file) => findSpreadPushes(file, readFileSync(path.join(ROOT, file), 'utf8')));
    expect(found).toEqual([]);
  });
});
