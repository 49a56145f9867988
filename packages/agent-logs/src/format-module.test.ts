import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatModuleUrl } from './format-module';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-format-module-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('formatModuleUrl', () => {
  it("names the build's entry for the format when it lies next to the module, else the module itself", () => {
    const moduleUrl = pathToFileURL(path.join(dir, 'index.js')).href;
    expect(formatModuleUrl(moduleUrl, './x-format.js')).toBe(moduleUrl);
    writeFileSync(path.join(dir, 'y-format.js'), 'export {};\n');
    expect(formatModuleUrl(moduleUrl, './y-format.js')).toBe(pathToFileURL(path.join(dir, 'y-format.js')).href);
    expect(formatModuleUrl('data:text/javascript,export{}', './y-format.js')).toBe('data:text/javascript,export{}');
  });
});
