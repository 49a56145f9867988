import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './parse-command-line';
import { UsageError } from './parse-time-flag';
import { COMMANDS } from './registry';

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('finds the command after global options that take a value', () => {
    const line = parseCommandLine(['--config', 'x.yaml', 'report', '--by', 'model', '--now', '2026-10-01']);
    expect(line.kind).toBe('command');
    if (line.kind !== 'command') return;
    expect(line.command.name).toBe('report');
    expect(line.config).toBe('x.yaml');
    expect(line.values.by).toBe('model');
    expect(line.now?.toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(line.logLevel).toBe('warn');
  });

  it('prints the version for --version and -V, exit 0', () => {
    for (const flag of ['--version', '-V']) expect(parseCommandLine([flag])).toEqual({ kind: 'help', text: expect.stringMatching(/^utt \d+\.\d+\.\d+\S*\n$/), exitCode: 0 });
  });

  it('prints the global help with every command, and a command its own help', () => {
    const global = parseCommandLine(['--help']);
    expect(global).toMatchObject({ kind: 'help', exitCode: 0 });
    for (const command of COMMANDS) expect(global.kind === 'help' && global.text).toContain(`  ${command.name} `);
    expect(parseCommandLine([])).toMatchObject({ kind: 'help', exitCode: 1 });
    const report = parseCommandLine(['report', '--help']);
    expect(report.kind === 'help' && report.text).toMatch(/^usage: utt report \[--since ISO\]/);
    expect(report.kind === 'help' && report.text).toContain('--by source|provider|model');
    expect(report.kind === 'help' && report.text).not.toContain('--skip-invalid');
  });

  it('names unknown commands with the close ones and the list, before any config is read', () => {
    expect(usageError(['reprot']).message).toBe(
      'unknown command "reprot". Did you mean "report"? Commands: ' + COMMANDS.map((command) => command.name).join(', '),
    );
    expect(usageError(['frobnicate']).message).toMatch(/^unknown command "frobnicate"\. Commands: run, /);
    expect(usageError(['frobnicate', '--help']).message).toMatch(/^unknown command "frobnicate"/);
  });

  it('answers unknown options, missing values and stray arguments in its own words', () => {
    const unknown = usageError(['report', '--frob']);
    expect(unknown.message).toBe('report: unknown option --frob; its options are --since, --until, --period, --by, --reconcile, --json');
    expect(unknown.command).toBe('report');
    expect(usageError(['verify', '--json']).message).toBe('verify: unknown option --json; it takes only the global options');
    expect(usageError(['report', '--since']).message).toBe('report: --since needs a value (--since ISO)');
    expect(usageError(['report', '--json=yes']).message).toBe('report: --json is a switch and takes no value');
    expect(usageError(['report', 'model']).message).toBe('report: unexpected argument "model"');
    expect(usageError(['agents', 'weekly']).message).toBe('agents: unknown argument "weekly"; choose one of daily, monthly, session');
    expect(usageError(['run', '--log-level', 'loud']).message).toBe('--log-level must be debug, info, warn or error');
  });

  it('gives a command its positionals', () => {
    const line = parseCommandLine(['import', 'usage.csv', '--skip-invalid']);
    expect(line.kind === 'command' && line.positionals).toEqual(['usage.csv']);
    expect(line.kind === 'command' && line.values['skip-invalid']).toBe(true);
  });
});
