import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { WharfConfig } from './config/schema.js';
import { connectMetadata, type MetadataDb } from './metadata/connect.js';
import { openBlobStore } from './storage/open.js';
import { Registry } from './registry/registry.js';
import { buildApp } from './http/app.js';
import { Iam } from './iam/iam.js';
import { QuotaService } from './ops/quotas.js';
import { Readiness } from './ops/readiness.js';
import { Metrics } from './metrics/metrics.js';
import { listenForMetrics } from './http/metrics.js';
import { blobsStored, uploadsInProgress } from './metadata/figures.js';
import { countJobs } from './metadata/jobs.js';
import { startSchedules } from './ops/schedules.js';
import { PullStats } from './ops/pull-stats.js';
import { RetentionService } from './ops/retention.js';
import { JobRunner } from './jobs/runner.js';
import { Events } from './events/events.js';
import { VulnDb } from './scanner/vulndb.js';
import { ExemptionService } from './scanner/exemptions.js';
import { SCAN_JOB, ScanService } from './scanner/scan-service.js';
import { FeedSync } from './scanner/feed/sync.js';
import { bootstrapAdministrator } from './iam/bootstrap.js';
import { blobLocks } from './metadata/blob-locks.js';
import { GarbageCollector } from './registry/garbage-collector.js';
import { reservePort, type PortReservation } from './http/port-reservation.js';
import { listenError, sqlitePathError } from './errors/startup.js';
import { Enforcement } from './enforcement/enforcement.js';
import type { PolicyDenial } from './http/admission/plugin.js';
import { SignatureVerifier } from './trust/signature-verifier.js';
import { TLS_MIN_VERSION, certificateDateProblem, describeCertificate, loadTlsCredentials, type TlsCredentials } from './http/tls.js';

function printGeneratedPassword(username: string, password: string): void {
  process.stderr.write(`\n  Wharf created the administrator "${username}" with the password:\n\n      ${password}\n\n  It is shown only this once. Set WHARF_ADMIN_PASSWORD before the first start to choose it.\n\n`);
}

export interface WharfServer {
  app: FastifyInstance;
  registry: Registry;
  gc: GarbageCollector;
  metrics: Metrics;
  /** The address metrics.listen bound, when set. */
  metricsUrl?: string;
  /** The address enforcement.listen bound (https:// with enforcement.tlsCert), when set. */
  admissionUrl?: string;
  iam: Iam;
  quotas: QuotaService;
  retention: RetentionService;
  pullStats: PullStats;
  jobs: JobRunner;
  /** The webhook outbox's delivery worker and subscriptions. */
  events: Events;
  scanner: ScanService;
  vulndb: VulnDb;
  enforcement: Enforcement;
  feed: FeedSync;
  metadata: MetadataDb;
  /** The address actually bound (port 0 picks a free one), https:// when http.tlsCert is set. */
  url: string;
  /**
   * Reads http.tlsCert and http.tlsKey again and serves the new certificate to new connections
   * (SIGHUP). A pair that does not check out throws, and the certificate in use stays.
   */
  reloadTls(): TlsCredentials;
  close(): Promise<void>;
}

/**
 * Wires configuration to drivers, services and the HTTP layer, and starts listening. A start
 * that cannot work (port taken, data directory not writable) throws a StartupError naming the
 * setting to change, before it creates anything.
 */
export async function startServer(
  config: WharfConfig,
  logger: Logger = pino({ level: config.log.level }),
  onGeneratedPassword: (username: string, password: string) => void = printGeneratedPassword,
): Promise<WharfServer> {
  const { host, port } = config.http;
  // Before anything else: a certificate that cannot be served is refused before the port is taken.
  const tls = config.http.tlsCert ? loadTlsCredentials(config.http.tlsCert, config.http.tlsKey) : undefined;
  const admissionTls = config.enforcement.tlsCert
    ? loadTlsCredentials(config.enforcement.tlsCert, config.enforcement.tlsKey, { cert: 'enforcement.tlsCert (WHARF_ENFORCEMENT_TLS_CERT)', key: 'enforcement.tlsKey (WHARF_ENFORCEMENT_TLS_KEY)' })
    : undefined;
  const reservation = await reservePort(host, port).catch((err: unknown) => { throw listenError(host, port, err, ''); });
  try {
    return await start(config, logger, onGeneratedPassword, reservation, tls, admissionTls);
  } finally {
    await reservation.release();
  }
}

async function start(
  config: WharfConfig,
  logger: Logger,
  onGeneratedPassword: (username: string, password: string) => void,
  reservation: PortReservation,
  tls: TlsCredentials | undefined,
  admissionTls: TlsCredentials | undefined,
): Promise<WharfServer> {
  const store = await openBlobStore(config, logger);
  const metadata = await connectMetadata({
    engine: config.database.engine,
    sqlitePath: config.database.sqlitePath,
    url: config.database.url,
    poolSize: config.database.poolSize,
    connectTimeout: config.database.connectTimeout,
    prepareStatements: config.database.prepareStatements,
    onConnectionError: (err) => logger.warn({ err: { message: err.message } }, 'PostgreSQL closed an idle connection; it will be reopened on demand'),
  }).catch((err: unknown) => {
    store.close?.();
    // A migration that fails is not a file problem: only the opening of the file is reworded.
    if (config.database.engine === 'sqlite' && isOpenFailure(err)) throw sqlitePathError(config.database.sqlitePath, err);
    throw err;
  });
  const now = () => Date.now();
  const metrics = new Metrics({
    uploadsInProgress: () => uploadsInProgress(metadata.db),
    blobsStored: () => blobsStored(metadata.db),
    scanQueue: () => countJobs(metadata.db, SCAN_JOB),
    pool: () => metadata.poolStats(),
  }, now);
  const quotas = new QuotaService(metadata.db, now);
  const pullStats = new PullStats(metadata.db, logger, now);
  const jobs = new JobRunner(metadata.db, logger, now, { concurrency: config.scanner.concurrency, leaseMs: 15 * 60_000, pollMs: config.scanner.pollInterval * 1000, maxAttempts: 5, onJobDone: (kind, outcome, seconds) => metrics.job(kind, outcome, seconds) });
  const vulndb = new VulnDb(metadata.db, now, config.scanner.staleAfter * 1000);
  const exemptions = new ExemptionService(metadata.db, now);
  const scanner = new ScanService(metadata.db, store, vulndb, exemptions, jobs, logger, now);
  const feed = new FeedSync(metadata.db, vulndb, (touched) => scanner.rescanTouched(touched), logger, now, { feedBase: config.scanner.feedBase, ecosystems: config.scanner.ecosystems });
  const locks = blobLocks(metadata.engine);
  const events = new Events(metadata.db, metadata.engine, logger, now, {
    publicUrl: config.http.publicUrl,
    concurrency: config.webhooks.concurrency,
    timeoutMs: config.webhooks.timeout * 1000,
    maxAttempts: config.webhooks.maxAttempts,
    backoffMs: config.webhooks.retryBackoff * 1000,
    pollMs: Math.max(config.webhooks.pollInterval * 1000, 20),
    allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
    logRetentionMs: config.webhooks.logRetention * 1000,
    onAttempt: (outcome) => metrics.webhookDelivery(outcome),
  });
  const registry = new Registry({
    db: metadata.db,
    store,
    locks,
    log: logger,
    now,
    settings: {
      deleteEnabled: config.registry.deleteEnabled,
      uploadExpiry: config.registry.uploadExpiry,
      maxPageSize: config.registry.maxPageSize,
      trashRetention: config.registry.trashRetention,
      gcGracePeriod: config.storage.gcGracePeriod,
    },
    hooks: {
      beforeBlobStored: (repository, digest, size) => quotas.beforeBlobStored(repository, digest, size),
      beforeBlobServed: (repository, bytes, puller) => quotas.beforeBlobServed(repository, bytes, puller),
      manifestPulled: (repository, digest, pull) => {
        pullStats.record(repository, digest);
        events.pulled(repository, digest, pull);
      },
      changed: (trx, event) => events.changed(trx, event),
      committed: () => events.worker.poke(),
      manifestPushed: async (_repository, digest) => {
        if (!config.scanner.enabled) return;
        await scanner.enqueue(digest).catch((err: unknown) => logger.error({ err, digest }, 'could not queue a scan'));
      },
    },
  });
  quotas.onWarning = (warning) => {
    const { repository, ...detail } = warning;
    events.record({ type: 'quota.warning', repository, target: {}, origin: { actor: null }, detail })
      .catch((err: unknown) => logger.error({ err, repository }, 'could not record a quota warning'));
  };
  scanner.onScanned = (digest) => events.scanned(digest, async (name, accountId) =>
    (await scanner.statuses([{ name, digest }], accountId)).get(`${name}@${digest}`)?.status ?? 'Not scanned');
  const gc = new GarbageCollector(metadata.db, store, locks, logger, now, { gracePeriod: config.storage.gcGracePeriod, onRun: (outcome, report) => metrics.gcRun(outcome, report) });
  const retention = new RetentionService(metadata.db, registry.images, logger, now);
  const trust = { db: metadata.db, store, log: logger };
  const signatures = new SignatureVerifier(trust, now);
  const enforcement = new Enforcement(metadata.db, signatures, {
    evaluationTimeoutMs: config.enforcement.evaluationTimeout * 1000, failOpen: config.enforcement.failOpen,
    registryHosts: config.enforcement.registryHosts, publicUrl: config.http.publicUrl,
  }, now);
  // The admission webhook's denials become policy.denied webhook events of their repository.
  const onPolicyDenial = (denial: PolicyDenial): Promise<void> => events.policyDenied({
    repository: denial.repository, policy: denial.policy, reason: denial.reason, origin: { actor: denial.actor, addr: denial.addr },
    ...(denial.digest ? { digest: denial.digest } : {}), ...(denial.tag ? { tag: denial.tag } : {}),
  });
  const iam = new Iam(metadata.db, config.auth, logger, now, config.registry.trashRetention);
  iam.audit.onRecord((entry) => metrics.audit(entry.action, entry.outcome));
  iam.audit.start(Math.max(config.audit.flushInterval, 0.1) * 1000);
  // A new registry's administrator (an argon2 hash) and token signing key are made once the port is
  // open, off the path of the first answer: logins wait for them (Authenticator.waitForAccounts,
  // TokenService.init), and the start fails as before if they cannot be made.
  const accountsCreated = deferred<void>();
  iam.authenticator.waitForAccounts(accountsCreated.promise);
  const app = await buildApp({ registry, gc, signatures, webhooks: events.webhooks, readiness: new Readiness(metadata, store), metrics, metricsToken: config.metrics.token, iam, quotas, retention, scanner, exemptions, vulndb, enforcement, admissionOnMainListener: !config.enforcement.listen, onPolicyDenial, logger, keepAliveTimeout: config.http.keepAliveTimeout, headersTimeout: config.http.headersTimeout, requestIdleTimeout: config.http.requestIdleTimeout, trustProxy: config.http.trustProxy, publicUrl: config.http.publicUrl, console: config.console.enabled, now, ...(tls ? { tls } : {}) });
  if (config.http.trustProxy === true) {
    logger.warn('http.trustProxy=true believes X-Forwarded-For from any peer: make sure the proxy replaces it (not appends to it), or list the proxy addresses instead');
  }
  if (tls) {
    logger.info({ certificate: describeCertificate(tls.leaf) }, 'serving HTTPS');
    const dateProblem = certificateDateProblem(tls.leaf, now());
    if (dateProblem) logger.warn({ certificate: describeCertificate(tls.leaf) }, dateProblem);
  }
  if (!config.auth.enabled) logger.warn('authentication is DISABLED (auth.enabled=false): every client has full access to every repository');
  try {
    await reservation.release();
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await metadata.close();
    store.close?.();
    // Only another program grabbing the port in the instant between release and listen gets here.
    accountsCreated.reject(err);
    throw listenError(config.http.host, config.http.port, err, '');
  }
  try {
    const [bootstrap] = await Promise.all([
      bootstrapAdministrator(metadata.db, { account: config.auth.defaultAccount, username: config.auth.adminUser, password: config.auth.adminPassword }, now()),
      iam.init(),
    ]);
    accountsCreated.resolve();
    if (bootstrap.created) {
      logger.info({ account: config.auth.defaultAccount, user: bootstrap.username }, 'created the default account and its administrator');
      // The generated password goes to the terminal once, never into the structured log.
      if (bootstrap.generatedPassword) onGeneratedPassword(bootstrap.username!, bootstrap.generatedPassword);
    }
  } catch (err) {
    accountsCreated.reject(err);
    await app.close();
    await iam.audit.stop();
    await metadata.close();
    store.close?.();
    throw err;
  }
  // metrics.listen: an internal port that serves /metrics without credentials.
  const metricsServer = config.metrics.listen
    ? await listenForMetrics(metrics, config.metrics.listen).catch(async (err: unknown) => {
      await app.close();
      await metadata.close();
      throw new Error(`cannot serve metrics on ${config.metrics.listen} (metrics.listen, WHARF_METRICS_LISTEN): ${(err as Error).message}`);
    })
    : undefined;
  // enforcement.listen: the admission webhook on a port of its own, with its own certificate.
  const admissionServer = config.enforcement.listen
    ? await (await import('./http/admission/listener.js')).listenForAdmission({ iam, scanner, enforcement, now, onDenial: onPolicyDenial, logger, address: config.enforcement.listen, ...(admissionTls ? { tls: admissionTls } : {}) }).catch(async (err: unknown) => {
      metricsServer?.close();
      await app.close();
      await metadata.close();
      throw new Error(`cannot serve the admission webhook on ${config.enforcement.listen} (enforcement.listen, WHARF_ENFORCEMENT_LISTEN): ${(err as Error).message}`);
    })
    : undefined;
  if (config.enforcement.listen && !admissionTls) logger.warn('enforcement.listen serves the admission webhook over plain HTTP: Kubernetes calls webhooks over HTTPS only, so set enforcement.tlsCert unless a proxy terminates TLS');
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  events.source.addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  const schedules = startSchedules({ config, logger, now, db: metadata.db, registry, retention, gc, feed, audit: iam.audit });
  pullStats.start();
  if (config.scanner.enabled) jobs.start();
  if (config.webhooks.enabled) events.worker.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    registry,
    gc,
    metrics,
    ...(metricsServer ? { metricsUrl: boundUrl(metricsServer.address()) } : {}),
    ...(admissionServer ? { admissionUrl: boundUrl(admissionServer.server.address(), admissionTls ? 'https' : 'http') } : {}),
    iam,
    quotas,
    retention,
    pullStats,
    jobs,
    events,
    scanner,
    vulndb,
    enforcement,
    feed,
    metadata,
    url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    reloadTls() {
      if (!tls) throw new Error('http.tlsCert is not set: this server speaks plain HTTP, there is no certificate to reload');
      const renewed = loadTlsCredentials(config.http.tlsCert, config.http.tlsKey);
      // Connections already open keep the context they were made with; new handshakes get this one.
      (app.server as unknown as HttpsServer).setSecureContext({ cert: renewed.cert, key: renewed.key, minVersion: TLS_MIN_VERSION });
      return renewed;
    },
    close() {
      closing ??= (async () => {
        // No new periodic run starts; one in progress ends before the database closes (a collection
        // stops at its next batch).
        gc.stop();
        feed.stop();
        const tasksStopped = schedules.stop();
        metricsServer?.close();
        await admissionServer?.close();
        await app.close();
        await tasksStopped;
        await jobs.stop();
        await events.worker.stop();
        await pullStats.stop();
        await iam.audit.stop();
        await metadata.close();
        store.close?.();
      })();
      return closing;
    },
  };
}

/** SQLite could not open or create its file (as opposed to a failing query). */
function isOpenFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('E') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM');
}

/** The URL a local client reaches a bound server at (a wildcard address becomes the loopback). */
function boundUrl(address: string | AddressInfo | null, scheme = 'http'): string {
  if (!address || typeof address === 'string') return '';
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** A promise with its resolve and reject at hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
