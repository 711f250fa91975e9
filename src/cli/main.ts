import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config/load.js';
import { startServer } from '../server.js';

/** Runs the `wharf` command; resolves to the exit code (0 ok, 1 failed, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('wharf')
    .description('Wharf, a private multi-tenant OCI container registry')
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;

  program.command('serve')
    .description('start the registry')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addHelpText('after', '\nExamples:\n  wharf serve\n  wharf serve --config /etc/wharf.yaml\n  WHARF_HTTP_PORT=5001 WHARF_STORAGE_DATA_DIR=/var/lib/wharf wharf serve\n')
    .action(async (opts: { config?: string }) => {
      exitCode = await serve(opts.config ?? process.env.WHARF_CONFIG);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return exitCode;
}

async function serve(configFile: string | undefined): Promise<number> {
  let config;
  try {
    config = loadConfig({ file: configFile });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`wharf: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.log.level });
  const server = await startServer(config, logger);
  logger.info({
    url: server.url,
    listen: `${config.http.host}:${server.app.server.address() && typeof server.app.server.address() === 'object' ? (server.app.server.address() as { port: number }).port : config.http.port}`,
    dataDir: config.storage.dataDir,
    database: config.database.engine === 'sqlite' ? config.database.sqlitePath : 'postgres',
  }, `Wharf listening on ${server.url}, data in ${config.storage.dataDir}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      const timer = setTimeout(() => {
        logger.warn('in-flight requests did not finish in time; closing their connections');
        server.app.server.closeAllConnections();
      }, config.http.shutdownTimeout * 1000);
      timer.unref();
      server.close().then(() => {
        clearTimeout(timer);
        logger.info('stopped cleanly');
        resolve();
      }, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
