/** Invariant 7: the worker's exit codes, which cron and alerting rely on. */
export const EXIT_OK = 0;
/** Fatal: configuration or database. Nothing was collected. */
export const EXIT_FATAL = 1;
/** Some sources failed (or are stale); the others were written. */
export const EXIT_PARTIAL = 2;
