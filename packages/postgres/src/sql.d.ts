// SQL files are imported as text: tsup's `.sql` text loader in the build,
// a small plugin in vitest.config.ts for the tests.
declare module '*.sql' {
  const text: string;
  export default text;
}
