/**
 * A start that cannot go on, said in the words of the setting to change. `wharf serve` prints
 * the message and exits 1.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Why a file or directory could not be made or written, in words rather than an errno. */
function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'it is on a read-only filesystem',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EEXIST: 'a file of that name is in the way',
    ENOENT: 'a part of the path does not exist',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
  };
  const reason = (e.code && words[e.code]) ?? e.message;
  return e.code ? `${reason} (${e.code})` : reason;
}

/** The data directory cannot be created or written. */
export function dataDirError(dataDir: string, err: unknown): StartupError {
  return new StartupError(
    `storage.dataDir (WHARF_STORAGE_DATA_DIR) ${dataDir} cannot be used: ${fsReason(err)}. ` +
    'Choose a directory Wharf may write to, or give the user it runs as write access to this one; nothing was created.',
    { cause: err },
  );
}

/** The SQLite file cannot be opened or written. */
export function sqlitePathError(sqlitePath: string, err: unknown): StartupError {
  return new StartupError(
    `database.sqlitePath (WHARF_DATABASE_SQLITE_PATH) ${sqlitePath} cannot be opened: ${fsReason(err)}. ` +
    'Choose a file in a directory Wharf may write to.',
    { cause: err },
  );
}

/**
 * The HTTP port cannot be bound. `afterwards` says what this start already did and how to
 * recover from it (empty when the failure came first and nothing was created).
 */
export function listenError(host: string, port: number, err: unknown, afterwards: string): StartupError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let what: string;
  if (code === 'EADDRINUSE') what = `port ${port} is already in use by another program. Stop that program, or choose another port with http.port (WHARF_HTTP_PORT)`;
  else if (code === 'EACCES') what = `permission denied: ports below 1024 need privileges. Choose a port from 1024 up with http.port (WHARF_HTTP_PORT)`;
  else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') what = `${host} is not an address of this machine. Fix http.host (WHARF_HTTP_HOST)`;
  else what = `${(err as Error).message}. Check http.host (WHARF_HTTP_HOST) and http.port (WHARF_HTTP_PORT)`;
  return new StartupError(`cannot listen on ${where}: ${what}. ${afterwards || 'Nothing was created.'}`.trimEnd(), { cause: err });
}
