import type { WharfConfig } from '../config/schema.js';
import { CliError } from './context.js';

/**
 * The server's configuration, for the operator commands that work on its data directly (vulndb,
 * fsck): the same `--config` file or WHARF_CONFIG and WHARF_* settings as `wharf serve`. A wrong
 * setting is bad usage (exit 2). Loaded on use, so the client commands start without it.
 */
export async function loadServerConfig(configFile: string | undefined): Promise<WharfConfig> {
  const { ConfigError, loadConfig } = await import('../config/load.js');
  try {
    return loadConfig({ file: configFile ?? process.env.WHARF_CONFIG });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** The server's blob store and metadata database, opened as `wharf serve` opens them; close() ends both. */
export interface ServerData {
  store: import('../storage/ports.js').BlobStore & { close?(): void };
  metadata: import('../metadata/connect.js').MetadataDb;
  close(): Promise<void>;
}

/**
 * Opens the blob store storage.driver names (on S3 the bytes are in the bucket, not the local data
 * directory) and the metadata database. `command` names the caller in the error when the store
 * cannot be opened.
 */
export async function openServerData(config: WharfConfig, command: string): Promise<ServerData> {
  const { connectMetadata } = await import('../metadata/connect.js');
  const { openBlobStore } = await import('../storage/open.js');
  const store = await openBlobStore(config).catch((err: unknown) => { throw new CliError(`${command} cannot open the blob store: ${(err as Error).message}`); });
  const metadata = await connectMetadata(config.database).catch((err: unknown) => { store.close?.(); throw err; });
  return {
    store,
    metadata,
    async close() {
      await metadata.close();
      store.close?.();
    },
  };
}
