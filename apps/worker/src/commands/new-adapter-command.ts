import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_OK } from '../exit-codes';
import { UsageError } from './parse-time-flag';

const SHIPPED_AS: Readonly<Record<string, string>> = { gitignore: '.gitignore', 'package.template.json': 'package.json' };

/** The template the build copies next to cli.js (from templates/adapter, with real version ranges). */
const TEMPLATE = fileURLToPath(new URL('./adapter-template/', import.meta.url));

/**
 * `utt new-adapter NAME`: a ready adapter package, `utt-adapter-NAME`, from
 * the template CI builds and tests, so a third party starts from code that
 * passes the conformance kit rather than from a snippet.
 */
export async function newAdapterCommand(name: string | undefined, options: { directory?: string; cwd: string }): Promise<number> {
  if (!name) throw new UsageError('new-adapter: name the adapter, e.g. "utt new-adapter acme" (creates utt-adapter-acme)', 'new-adapter');
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new UsageError(`new-adapter: "${name}" is not a kebab-case name (lower-case letters, digits and single dashes, e.g. acme or acme-cloud)`, 'new-adapter');
  }
  const target = path.resolve(options.cwd, options.directory ?? `utt-adapter-${name}`);
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new UsageError(`new-adapter: ${target} already exists and is not empty`, 'new-adapter');
  }
  if (!existsSync(TEMPLATE)) throw new Error(`the adapter template is missing from this installation (${TEMPLATE}): reinstall @utt/worker`);
  const rename = renamer(name);
  const written: string[] = [];
  const copy = async (from: string, to: string) => {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      // npm drops .gitignore from packages, and a nested package.json would be a package of its own: both ship renamed.
      const targetName = SHIPPED_AS[entry.name] ?? rename(entry.name);
      if (entry.isDirectory()) await copy(path.join(from, entry.name), path.join(to, targetName));
      else {
        await writeFile(path.join(to, targetName), rename(await readFile(path.join(from, entry.name), 'utf8')));
        written.push(path.relative(target, path.join(to, targetName)));
      }
    }
  };
  await copy(TEMPLATE, target);
  const shown = path.relative(options.cwd, target) || '.';
  process.stdout.write(
    [
      `created utt-adapter-${name} in ${shown} (${written.length} files)`,
      '',
      'next:',
      `  cd ${shown}`,
      '  npm install          # @utt/core, @utt/adapter-testkit, vitest 4, tsup, typescript',
      '  npm test             # the conformance kit against a loopback fake of the provider',
      `  edit src/${name}-adapter.ts and src/__fixtures__/usage-page.json for the real API, and the expected records in src/${name}-adapter.test.ts`,
      '  npm pack             # builds and packs; or npm publish',
      '',
      `then in the deployment: npm install utt-adapter-${name}, and in utt.config.yaml "adapter: utt-adapter-${name}"`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

/** acme → the new name in each spelling the template uses: acme-x, acmeX, AcmeX, ACME_X, acme_x. */
function renamer(name: string): (text: string) => string {
  const words = name.split('-');
  const pascal = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
  const camel = pascal[0]!.toLowerCase() + pascal.slice(1);
  const snake = words.join('_');
  const spellings: Record<string, string> = { Acme: pascal, ACME: snake.toUpperCase(), acme_: `${snake}_`, acme: name };
  // One pass, so a replacement is never replaced again.
  return (text) => text.replace(/acme(?=[A-Z])|Acme|ACME|acme_|acme/g, (match, offset: number, whole: string) =>
    match === 'acme' && /[A-Z]/.test(whole[offset + 4] ?? '') ? camel : spellings[match]!,
  );
}
