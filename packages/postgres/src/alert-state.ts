import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** What an alert rule concludes about one subject in this run. */
export type AlertObservation = {
  readonly rule: string;
  readonly subject: string;
  /** `ok`, or the rule's level (`warning`, `critical`, `underspend`, `stale`…). */
  readonly level: string;
  readonly now: Date;
};

/** The stored level before this run: `ok` (and since null) for a subject never seen. */
export type AlertPrevious = { readonly level: string; readonly since: Date | null };

/** A row of alert_state. */
export type AlertStateRow = {
  readonly rule: string;
  readonly subject: string;
  readonly level: string;
  readonly since: Date;
  readonly notifiedAt: Date | null;
  readonly lastMessage: string | null;
};

/**
 * Edge-triggering that survives one-shot processes: when the stored level of
 * (rule, subject) differs from the observed one, `notify` runs inside the
 * transaction that stores the new level, so the change and its notification
 * commit together (a failed send rolls back and the next run tries again), and
 * of several processes observing the same crossing at once exactly one sends
 * (the others find the level already changed). A subject first seen at `ok`
 * is stored without a notification. Returns whether this call notified.
 */
export async function transitionAlert(
  client: SqlClient,
  tables: StoreTables,
  observation: AlertObservation,
  notify: (previous: AlertPrevious) => Promise<string | void>,
): Promise<{ notified: boolean; previous: AlertPrevious }> {
  return client.transaction(async (tx) => {
    const [row] = await tx.query<{ level: string; since: Date }>(
      `SELECT level, since FROM ${tables.alertState} WHERE rule = $1 AND subject = $2 FOR UPDATE`,
      [observation.rule, observation.subject],
    );
    const previous: AlertPrevious = row ? { level: row.level, since: row.since } : { level: 'ok', since: null };
    if (previous.level === observation.level) {
      if (!row) {
        await tx.query(
          `INSERT INTO ${tables.alertState} (rule, subject, level, since, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (rule, subject) DO NOTHING`,
          [observation.rule, observation.subject, observation.level, observation.now],
        );
      }
      return { notified: false, previous };
    }
    const changed = await tx.query(
      `INSERT INTO ${tables.alertState} (rule, subject, level, since, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (rule, subject) DO UPDATE SET level = EXCLUDED.level, since = EXCLUDED.since, updated_at = EXCLUDED.updated_at
       WHERE ${tables.alertState}.level IS DISTINCT FROM EXCLUDED.level
       RETURNING rule`,
      [observation.rule, observation.subject, observation.level, observation.now],
    );
    // Another process stored this crossing first (it inserted while we read nothing): it notifies.
    if (changed.length === 0) return { notified: false, previous };
    const message = await notify(previous);
    await tx.query(`UPDATE ${tables.alertState} SET notified_at = $3, last_message = $4 WHERE rule = $1 AND subject = $2`, [
      observation.rule,
      observation.subject,
      observation.now,
      typeof message === 'string' ? message.slice(0, 2000) : null,
    ]);
    return { notified: true, previous };
  });
}

export async function listAlertStates(client: SqlClient, tables: StoreTables): Promise<AlertStateRow[]> {
  const rows = await client.query<{ rule: string; subject: string; level: string; since: Date; notified_at: Date | null; last_message: string | null }>(
    `SELECT rule, subject, level, since, notified_at, last_message FROM ${tables.alertState} ORDER BY rule, subject`,
  );
  return rows.map((row) => ({
    rule: row.rule,
    subject: row.subject,
    level: row.level,
    since: row.since,
    notifiedAt: row.notified_at,
    lastMessage: row.last_message,
  }));
}
