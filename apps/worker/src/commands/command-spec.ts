import type { Runtime } from '../runtime';

/** One command-line option of a command, as `node:util` parseArgs takes it, plus its help text. */
export type OptionSpec = {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The placeholder help shows after a string option, e.g. `ISO` in `--since ISO`. */
  readonly value?: string;
  readonly description: string;
};

/** What a command receives: its own flags (already checked against its option list) and positionals. */
export type CommandArgs = {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** The positionals after the command name. */
  readonly positionals: readonly string[];
  /** The global `--now`, parsed. */
  readonly now?: Date;
};

/**
 * A `utt` command: its help and options, and a `run` that imports the
 * implementation only when the command is chosen, so `utt --help` and light
 * commands do not load every adapter and the price registry.
 */
export type CommandSpec = {
  readonly name: string;
  /** One line in `utt --help`. */
  readonly summary: string;
  /** The synopsis after `utt `, e.g. `report [--since ISO] [--json]`. */
  readonly usage: string;
  /** Paragraphs `utt NAME --help` prints below the synopsis. */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** The words allowed as the first positional (a view or subcommand), for help and error messages. */
  readonly subcommands?: readonly string[];
  /** How many positionals the command takes at most (default 0). */
  readonly maxPositionals?: number;
  /**
   * Whether the command calls providers and so needs each enabled source's
   * credentials. Commands that only read or migrate the database say false,
   * so a cron watchdog works without every provider key in its environment.
   */
  readonly needsSourceCredentials: boolean;
  readonly run: (runtime: Runtime, args: CommandArgs) => Promise<number>;
};

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string', value: 'FILE', description: 'the config file (default: $UTT_CONFIG, else ./utt.config.yaml)' },
  'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info, warn (default) or error; logs go to stderr' },
  now: { type: 'string', value: 'ISO', description: 'act as if it were this time: for replays and tests' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
};

export function stringFlag(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(args: CommandArgs, name: string): boolean | undefined {
  const value = args.values[name];
  return typeof value === 'boolean' ? value : undefined;
}
