import { openConfiguredStore, type Runtime } from '../runtime';

/** `utt migrate`: applies pending migrations from sql/ (every other command does too, first). */
export async function migrateCommand(runtime: Runtime): Promise<number> {
  // Opened without migrating, or the store would apply them while opening and this would always say "up to date".
  const store = await openConfiguredStore(runtime, { migrate: false });
  try {
    const { applied } = await store.migrate();
    process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
    return 0;
  } finally {
    await store.close();
  }
}
