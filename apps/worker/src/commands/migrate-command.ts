import { openConfiguredStore, type Runtime } from '../runtime';

/** `utt migrate`: applies pending migrations from sql/ (every other command does too, first). */
export async function migrateCommand(runtime: Runtime): Promise<number> {
  const store = await openConfiguredStore(runtime);
  try {
    const { applied } = await store.migrate();
    process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
    return 0;
  } finally {
    await store.close();
  }
}
