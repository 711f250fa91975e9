import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { examples } from './command-kit.js';
import { CliError, contextFromProcess, type CliContext } from './context.js';
import { translateIbmcloudNames } from './ibmcloud-names.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** After a usage error, every command points at its own --help (which has examples). */
function hintHelp(command: Command, path: string): void {
  command.showHelpAfterError(`(run "${path} --help" for usage and examples)`);
  for (const sub of command.commands) hintHelp(sub, `${path} ${sub.name()}`);
}

/**
 * Runs the `wharf` command; resolves to the exit code (0 ok, 1 failed, 2 bad usage). The client
 * commands hold no business logic: each is one or a few calls of the management API (/api/v1).
 */
export async function main(argv: string[], ctx: CliContext = contextFromProcess()): Promise<number> {
  const program = examples(new Command('wharf')
    .description('Wharf, a private multi-tenant OCI container registry')
    .version(packageVersion(), '-V, --version')
    .exitOverride(),
  'wharf login http://localhost:5000 -u admin',
  'wharf namespace add team-a',
  'wharf image list',
  'wharf <command> --help');
  let exitCode = 0;

  program.command('serve')
    .description('start the registry')
    .option('-c, --config <file>', 'YAML configuration file (also WHARF_CONFIG)')
    .addHelpText('after', '\nExamples:\n  wharf serve\n  wharf serve --config /etc/wharf.yaml\n  WHARF_HTTP_PORT=5001 WHARF_STORAGE_DATA_DIR=/var/lib/wharf wharf serve\n')
    .action(async (opts: { config?: string }) => {
      exitCode = await serve(opts.config ?? process.env.WHARF_CONFIG);
    });

  // `wharf serve` is how every replica starts: it does not build the client commands' parsers
  // (their modules, help text and options), which a new replica would wait for before opening its port.
  if (argv[2] !== 'serve') (await import('./client-commands.js')).registerClientCommands(program, ctx);
  hintHelp(program, 'wharf');

  try {
    await program.parseAsync(translateIbmcloudNames(argv));
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      ctx.stderr.write(`wharf: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  return exitCode;
}

async function serve(configFile: string | undefined): Promise<number> {
  // Loaded here, so the client commands start without the configuration schema, the logger and the server.
  const { ConfigError, loadConfig } = await import('../config/load.js');
  const { default: pino } = await import('pino');
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
  const { startServer } = await import('../server.js');
  const { StartupError } = await import('../errors/startup.js');
  const { certificateDateProblem, describeCertificate } = await import('../http/tls.js');
  // The port opens before the start has finished (the first administrator is made just after): a
  // SIGTERM or SIGINT in that moment stops the server once it has started, instead of cutting the
  // start off half-done; a SIGHUP then is nothing to reload yet (with TLS: without, Node's default).
  let early: 'SIGTERM' | 'SIGINT' | undefined;
  const onEarlyTerm = () => { early ??= 'SIGTERM'; };
  const onEarlyInt = () => { early ??= 'SIGINT'; };
  const onEarlyHup = () => {};
  process.on('SIGTERM', onEarlyTerm);
  process.on('SIGINT', onEarlyInt);
  if (config.http.tlsCert) process.on('SIGHUP', onEarlyHup);
  let server;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    if (err instanceof StartupError) {
      console.error(`wharf: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGTERM', onEarlyTerm);
    process.off('SIGINT', onEarlyInt);
    process.off('SIGHUP', onEarlyHup);
  }
  logger.info({
    url: server.url,
    listen: `${config.http.host}:${server.app.server.address() && typeof server.app.server.address() === 'object' ? (server.app.server.address() as { port: number }).port : config.http.port}`,
    dataDir: config.storage.dataDir,
    database: config.database.engine === 'sqlite' ? config.database.sqlitePath : 'postgres',
    // From the process's start, Node's own boot included: what a restart costs.
    startupMs: Math.round(performance.now()),
  }, `Wharf listening on ${server.url}, data in ${config.storage.dataDir}`);

  // With TLS, SIGHUP re-reads the certificate and key (a renewal by cert-manager or certbot replaced
  // the files); a pair that does not check out is logged and the one in use is kept. Without TLS,
  // SIGHUP keeps Node's default (the process ends), as before.
  const reloadCertificate = () => {
    try {
      const renewed = server.reloadTls();
      logger.info({ certificate: describeCertificate(renewed.leaf) }, 'reloaded the TLS certificate on SIGHUP: new connections get it');
      const dateProblem = certificateDateProblem(renewed.leaf, Date.now());
      if (dateProblem) logger.warn({ certificate: describeCertificate(renewed.leaf) }, dateProblem);
    } catch (err) {
      logger.error({ err: { message: (err as Error).message } }, 'SIGHUP: the new TLS certificate was refused; still serving the previous one');
    }
  };
  if (config.http.tlsCert) process.on('SIGHUP', reloadCertificate);

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
    process.once('SIGTERM', () => { process.off('SIGHUP', reloadCertificate); stop('SIGTERM'); });
    process.once('SIGINT', () => { process.off('SIGHUP', reloadCertificate); stop('SIGINT'); });
    if (early) process.emit(early, early);
  });
  return 0;
}

