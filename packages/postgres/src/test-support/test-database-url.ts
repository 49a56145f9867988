/** The environment variable that switches on the real-PostgreSQL runs of every suite. */
export const TEST_DATABASE_URL_VARIABLE = 'UTT_TEST_DATABASE_URL';

export function testDatabaseUrl(): string | undefined {
  return process.env[TEST_DATABASE_URL_VARIABLE] || undefined;
}
