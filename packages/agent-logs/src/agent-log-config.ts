import { z } from '@utt/core';

/**
 * The config every coding-agent adapter accepts (each adapter exports it under
 * its own name). Strict: a typo is an error.
 */
export const agentLogConfigSchema = z.strictObject({
  /** Directories or files to read instead of the agent's default locations. */
  paths: z.array(z.string().min(1, 'must not be empty')).min(1, 'list at least one path').optional(),
  /** source_instance of the rows: the machine and user. Default `<user>@<hostname>`. */
  instance: z.string().min(1, 'must not be empty').max(200, 'too long').optional(),
  /**
   * 'subscription': this machine's usage is covered by a flat-fee plan; rows
   * get the label `billing: subscription`, so reports can show the
   * API-equivalent value next to what was paid. 'api' adds no label.
   */
  billing: z.enum(['api', 'subscription']).default('api'),
  /** Extra labels on every row (a team, a cost centre). */
  labels: z.record(z.string().min(1), z.string()).default({}),
  /** Add a `session` label (needed for per-session views); false keeps fewer rows. */
  sessionLabel: z.boolean().default(true),
  /**
   * Days of per-hour de-duplication state kept; later copies of older
   * responses are ignored. null keeps everything.
   */
  retentionDays: z.number().int('expected a whole number').min(1, 'must be at least 1').nullable().default(60),
  /**
   * Between the cycles of a long-running worker (`utt daemon`), watch the
   * transcript directories so a cycle stats only the files that changed,
   * with a full pass at least hourly. false: stat every file every cycle
   * (for file systems that report no changes, such as some network mounts).
   */
  watch: z.boolean().default(true),
});

export type AgentLogConfigInput = z.input<typeof agentLogConfigSchema>;
export type AgentLogConfig = z.output<typeof agentLogConfigSchema>;
