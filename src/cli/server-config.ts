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
