import { parseArgs } from 'node:util';
import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from './command-spec';
import { parseTimeFlag, UsageError } from './parse-time-flag';
import { COMMANDS, findCommand } from './registry';
import { VERSION } from '../version';

/** What the command line asks for: a command to run, or help to print. */
export type CommandLine =
  | { readonly kind: 'help'; readonly text: string; readonly exitCode: number }
  | {
      readonly kind: 'command';
      readonly command: CommandSpec;
      readonly values: Readonly<Record<string, string | boolean | undefined>>;
      readonly positionals: readonly string[];
      readonly config?: string;
      readonly logLevel: string;
      readonly now?: Date;
    };

/**
 * Reads argv without touching the config or the database, so a typo or
 * `--help` is answered in utt's own words even where no config exists.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const name = findCommandName(argv);
  const wantsHelp = argv.some((arg) => arg === '--help' || arg === '-h');
  if (name === undefined && !wantsHelp && argv.some((arg) => arg === '--version' || arg === '-V')) {
    return { kind: 'help', text: `utt ${VERSION}\n`, exitCode: 0 };
  }
  if (name === undefined) return { kind: 'help', text: globalHelp(), exitCode: wantsHelp ? 0 : 1 };
  const command = findCommand(name);
  if (!command) throw new UsageError(unknownCommandMessage(name));
  if (wantsHelp) return { kind: 'help', text: commandHelp(command), exitCode: 0 };

  const options = { ...GLOBAL_OPTIONS, ...command.options };
  checkOptions(command, options, argv);
  const { values, positionals } = parseArgs({ args: [...argv], options: toParseArgsOptions(options), allowPositionals: true, strict: true });
  const rest = positionals.slice(1);
  checkPositionals(command, rest);
  const logLevel = (values['log-level'] as string | undefined) ?? 'warn';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error', command.name);
  return {
    kind: 'command',
    command,
    values,
    positionals: rest,
    config: values.config as string | undefined,
    logLevel,
    now: parseTimeFlag('now', values.now as string | undefined),
  };
}

/** The first positional, reading every command's options so that `--config FILE` is not taken for a command. */
function findCommandName(argv: readonly string[]): string | undefined {
  const every: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(every, command.options);
  const { tokens } = parseArgs({ args: [...argv], options: toParseArgsOptions(every), allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) if (token.kind === 'positional') return token.value;
  return undefined;
}

function checkOptions(command: CommandSpec, options: Readonly<Record<string, OptionSpec>>, argv: readonly string[]): void {
  const { tokens } = parseArgs({ args: [...argv], options: toParseArgsOptions(options), allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) {
      const valid = Object.keys(command.options).map((name) => `--${name}`);
      throw new UsageError(
        `${command.name}: unknown option ${token.rawName}; ` +
          (valid.length > 0 ? `its options are ${valid.join(', ')}` : 'it takes only the global options'),
        command.name,
      );
    }
    if (option.type === 'string' && token.value === undefined) {
      throw new UsageError(`${command.name}: --${token.name} needs a value (--${token.name} ${option.value ?? 'VALUE'})`, command.name);
    }
    if (option.type === 'boolean' && token.inlineValue) {
      throw new UsageError(`${command.name}: --${token.name} is a switch and takes no value`, command.name);
    }
  }
}

function checkPositionals(command: CommandSpec, rest: readonly string[]): void {
  const max = command.maxPositionals ?? 0;
  if (command.subcommands && rest[0] !== undefined && !command.subcommands.includes(rest[0])) {
    throw new UsageError(`${command.name}: unknown argument "${rest[0]}"; choose one of ${command.subcommands.join(', ')}`, command.name);
  }
  if (rest.length > max) {
    const extra = rest.slice(max).map((word) => `"${word}"`).join(' ');
    throw new UsageError(`${command.name}: unexpected argument ${extra}`, command.name);
  }
}

function toParseArgsOptions(options: Readonly<Record<string, OptionSpec>>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, option]) => [name, option.short ? { type: option.type, short: option.short } : { type: option.type }]),
  );
}

function unknownCommandMessage(name: string): string {
  const names = COMMANDS.map((command) => command.name);
  const close = names.filter((candidate) => editDistance(candidate, name) <= 2 || (name.length >= 3 && candidate.startsWith(name)));
  const hint = close.length > 0 ? ` Did you mean ${close.map((candidate) => `"${candidate}"`).join(' or ')}?` : '';
  return `unknown command "${name}".${hint} Commands: ${names.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const EXIT_CODES = 'exit codes: 0 all sources succeeded; 2 some failed (the others were written); 1 fatal (config, database)';

export function globalHelp(): string {
  return [
    'utt — unified token telemetry',
    '',
    'usage: utt <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`),
    '',
    'global options:',
    ...formatOptions(GLOBAL_OPTIONS),
    '',
    'Run "utt <command> --help" for a command\'s options; "utt --version" prints the version.',
    EXIT_CODES,
    '',
  ].join('\n');
}

export function commandHelp(command: CommandSpec): string {
  const own = formatOptions(command.options);
  return [
    `usage: utt ${command.usage}`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    ...(own.length > 0 ? ['', 'options:', ...own] : []),
    '',
    'global options:',
    ...formatOptions(GLOBAL_OPTIONS),
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}

function formatOptions(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(26)} ${option.description}`;
  });
}
