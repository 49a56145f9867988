/** Variable names whose values are treated as secrets and redacted from any output. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIAL|AUTH|COOKIE)/i;

/** More values than any real config has; a YAML alias bomb crosses it long before memory runs out. */
export const MAX_CONFIG_VALUES = 100_000;

/** The config, with its aliases expanded, holds more than MAX_CONFIG_VALUES values. */
export class ConfigTooLargeError extends RangeError {
  constructor(limit: number) {
    super(`expands to more than ${limit.toLocaleString('en-US')} values (nested YAML aliases?); refused before substituting variables`);
    this.name = 'ConfigTooLargeError';
  }
}

export type Substitution = {
  readonly value: unknown;
  /** Paths whose `${VAR}` had no value and no default, with the variable named. */
  readonly missing: ReadonlyArray<{ readonly path: string; readonly variable: string }>;
  /** Values substituted from secret-looking variables (and DATABASE_URL passwords), for redaction. */
  readonly secrets: ReadonlySet<string>;
};

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML
 * document (`$${` is a literal `${`). Working on parsed values rather than the
 * raw text means a value can never break the YAML, and each missing variable
 * is reported with the path that needs it.
 */
export function substituteEnv(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  options: { maxValues?: number } = {},
): Substitution {
  const missing: Array<{ path: string; variable: string }> = [];
  const secrets = new Set<string>();
  // YAML aliases are shared references: a 1 KB file of nested aliases is a
  // tree of billions of values once walked. Count before the walk expands.
  const maxValues = options.maxValues ?? MAX_CONFIG_VALUES;
  let values = 0;

  function replace(text: string, path: string): string {
    return text.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name?: string, fallback?: string) => {
      if (match === '$${') return '${';
      const variable = name as string;
      const value = env[variable];
      if (value !== undefined && value !== '') {
        if (SECRET_NAME.test(variable)) secrets.add(value);
        return value;
      }
      if (fallback !== undefined) return fallback;
      missing.push({ path, variable });
      return '';
    });
  }

  function walk(value: unknown, path: string): unknown {
    values += 1;
    if (values > maxValues) throw new ConfigTooLargeError(maxValues);
    if (typeof value === 'string') return replace(value, path);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, `${path}[${index}]`));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, walk(item, path === '' ? key : `${path}.${key}`)]),
      );
    }
    return value;
  }

  return { value: walk(document, ''), missing, secrets };
}

/** Shorter values (`1`, `true`) are flags, not credentials: redacting them would garble every message. */
const MIN_SECRET_LENGTH = 6;

/**
 * The values of every secret-looking variable in the environment, known before
 * the config is read: a key misused as an ordinary value
 * (`maxBackfill: ${OPENAI_ADMIN_KEY}`) is redacted from the error that refuses it.
 */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): Set<string> {
  const secrets = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) secrets.add(value);
  }
  const databasePassword = passwordOfUrl(env.DATABASE_URL);
  if (databasePassword) secrets.add(databasePassword);
  return secrets;
}

/** The password of a connection URL, if it has one, so it can be redacted. */
export function passwordOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
