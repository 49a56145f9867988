import { redactSecrets, UttError } from '@utt/core';
import { parseCommandLine } from './commands/parse-command-line';
import { UsageError } from './commands/parse-time-flag';
import { EXIT_FATAL } from './exit-codes';
import type { LogLevel } from './output/console-logger';
import { secretValuesOf } from './config/substitute-env';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  // Known before the config is read, so that no error (a config error included) can print them.
  let secrets: ReadonlySet<string> = secretValuesOf(env);
  try {
    const line = parseCommandLine(argv);
    if (line.kind === 'help') {
      process.stdout.write(line.text);
      return line.exitCode;
    }
    if (line.command.runWithoutConfig) {
      return await line.command.runWithoutConfig({ values: line.values, positionals: line.positionals, now: line.now }, { cwd });
    }
    // Loaded here, not at the top: the config schema, the store and the price registry are not needed for --help.
    const { loadRuntime } = await import('./runtime');
    const runtime = await loadRuntime({
      configFlag: line.config,
      logLevel: line.logLevel as LogLevel,
      env,
      cwd,
      needsSourceCredentials: line.command.needsSourceCredentials,
      command: line.command.name,
    });
    secrets = runtime.loaded.secrets;
    return await line.command.run(runtime, { values: line.values, positionals: line.positionals, now: line.now });
  } catch (error) {
    const message = error instanceof UsageError
      ? `${error.message}\nrun "utt ${error.command ? `${error.command} ` : ''}--help" for usage`
      : (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? `${(error as Error).message}\nrun "utt --help" for usage`
        : UttError.isInstance(error)
          ? error.message
          : `fatal: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`utt: ${redactSecrets(message, secrets)}\n`);
    return EXIT_FATAL;
  }
}

main(process.argv.slice(2), process.env, process.cwd()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`utt: fatal: ${String(error)}\n`);
    process.exitCode = EXIT_FATAL;
  },
);
