/**
 * The worker package's folder: the nearest folder at or above `start` whose
 * package.json names a package. dist/ has a package.json of its own, which
 * only says that its .js files are CommonJS, so the first package.json found
 * is not always the package's. Shared by the launcher (dist/cli.js, which
 * loads none of the CLI's modules) and the adapter loader.
 */
export function findWorkerFolder(start: string): string {
  const path = process.getBuiltinModule('node:path');
  let directory = start;
  while (!namesPackage(path.join(directory, 'package.json')) && path.dirname(directory) !== directory) directory = path.dirname(directory);
  return directory;
}

function namesPackage(manifest: string): boolean {
  try {
    return typeof (JSON.parse(process.getBuiltinModule('node:fs').readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'string';
  } catch {
    return false;
  }
}
