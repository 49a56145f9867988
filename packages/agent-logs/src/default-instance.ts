import os from 'node:os';

/**
 * `<user>@<hostname>`: identifies the machine and the OS user, so laptops
 * writing to one database never overwrite each other's rows. Read from `env`
 * first (USER, USERNAME, HOSTNAME, COMPUTERNAME) so tests need no globals.
 */
export function defaultSourceInstance(env: Readonly<Record<string, string | undefined>>): string {
  const user = env.USER || env.USERNAME || safe(() => os.userInfo().username) || 'unknown';
  const host = env.HOSTNAME || env.COMPUTERNAME || safe(() => os.hostname()) || 'unknown';
  return `${user}@${host}`;
}

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}

/** The home directory: HOME (USERPROFILE on Windows) from `env`, else the OS. */
export function homeDirectory(env: Readonly<Record<string, string | undefined>>): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}
