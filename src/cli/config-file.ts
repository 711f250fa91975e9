import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './context.js';

/** What `wharf login` stores: the registry, who logged in, and the tokens (the file is mode 0600). */
export interface StoredLogin {
  /** The registry's base URL, e.g. http://localhost:5000 (no trailing slash). */
  url: string;
  /** The username given at login (`iamapikey` for an API key login). */
  username: string;
  refreshToken: string;
  accessToken: string;
  /** When the access token expires, ISO 8601. */
  accessTokenExpires: string;
}

interface ConfigFile {
  version: 1;
  login: StoredLogin;
}

/** The stored login, or undefined when there is none. A damaged file is an error that says how to recover. */
export function readLogin(file: string): StoredLogin | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Partial<ConfigFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ConfigFile>;
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as Error).message}): run wharf logout, then wharf login <url>`);
  }
  const login = parsed.login;
  if (!login || typeof login.url !== 'string' || typeof login.refreshToken !== 'string' || typeof login.accessToken !== 'string') {
    throw new CliError(`${file} does not hold a Wharf login: run wharf logout, then wharf login <url>`);
  }
  return { url: login.url, username: String(login.username ?? ''), refreshToken: login.refreshToken, accessToken: login.accessToken, accessTokenExpires: String(login.accessTokenExpires ?? '') };
}

/**
 * Stores the login: the directory is created with mode 0700, the file is written to a temporary
 * file of mode 0600 and renamed over the old one, so a reader never sees half a file.
 */
export function writeLogin(file: string, login: StoredLogin): void {
  const dir = path.dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body: ConfigFile = { version: 1, login };
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/** Removes the stored login; true when there was one. */
export function removeLogin(file: string): boolean {
  if (!existsSync(file)) return false;
  rmSync(file, { force: true });
  return true;
}
