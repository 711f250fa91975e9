import { isIP } from 'node:net';
import { z } from 'zod';

/** Accepts seconds as a number, or a string such as "90s", "30m", "24h", "7d". */
const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration: use seconds or a number with ms, s, m, h or d` });
    return z.NEVER;
  }
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
});

/** proxy-addr's names for address ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/**
 * Which peers may tell the client's address, protocol and host in X-Forwarded-For/-Proto/-Host:
 * false (none), true (every peer, and the left-most forwarded address is the client: only when the
 * proxy replaces X-Forwarded-For rather than appending to it), or a list
 * of proxy addresses and CIDRs (YAML list, or comma-separated in the variable). No hop count:
 * fastify's hop-count mode cannot check who the peer is, so it believes nobody.
 */
const trustProxy = z.union([z.boolean(), z.array(z.string()), z.string()]).transform((value, ctx): boolean | string[] => {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  const entries = (typeof value === 'string' ? value.split(',') : value).map((e) => e.trim()).filter((e) => e !== '');
  const wrong = entries.filter((e) => !isProxyAddress(e));
  if (wrong.length > 0) {
    ctx.addIssue({ code: 'custom', message: `${wrong.map((e) => `"${e}"`).join(', ')} ${wrong.length > 1 ? 'are' : 'is'} not an address or CIDR: use true, false, or proxy addresses such as 10.0.0.5, 10.0.0.0/8, loopback` });
    return z.NEVER;
  }
  return entries.length > 0 ? entries : false;
});

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** Each section of the configuration; its keys are also the WHARF_<SECTION>_<KEY> variables. */
export const configSections = {
  http: z.strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(5000),
    /** Public URL clients reach the registry at; used for absolute links. Derived from the request when empty. */
    publicUrl: z.string().url().or(z.literal('')).default(''),
    /** Proxies whose X-Forwarded-* headers are believed; without one, request.ip is the TCP peer. */
    trustProxy: trustProxy.prefault(false),
    /** Seconds an idle keep-alive connection stays open. */
    keepAliveTimeout: duration.prefault(72),
    /** Seconds SIGTERM waits for in-flight requests before closing them. */
    shutdownTimeout: duration.prefault(30),
    /** Seconds a client has to send a request's headers before it gets 408 (0: no limit). */
    headersTimeout: duration.prefault(60),
    /**
     * Seconds a request body may send nothing before the connection is closed (0: no limit). There
     * is deliberately no total request timeout: it would cut multi-GiB uploads on slow links.
     */
    requestIdleTimeout: duration.prefault(60),
    /**
     * PEM certificate (the server's first, then any intermediates) to serve HTTPS with; with tlsKey.
     * Both empty: plain HTTP (behind a TLS-terminating proxy). Re-read on SIGHUP.
     */
    tlsCert: z.string().default(''),
    /** PEM private key of tlsCert (unencrypted). */
    tlsKey: z.string().default(''),
  }),
  storage: z.strictObject({
    driver: z.enum(['filesystem', 's3']).default('filesystem'),
    /** Directory for blobs, upload staging and (by default) the SQLite database. */
    dataDir: z.string().min(1).default('./wharf-data'),
    /** How often garbage collection runs (one replica at a time); 0 runs it only on demand. */
    gcInterval: duration.prefault('6h'),
    /** How long a blob link or a stored file is left alone after it was made, whatever references it. */
    gcGracePeriod: duration.prefault('1h'),
    /** S3 endpoint URL for S3-compatible stores (Ceph RGW, MinIO…); empty for AWS itself. */
    s3Endpoint: z.string().regex(/^(https?:\/\/[^/\s]+\/?)?$/, 'must be an http:// or https:// URL of the store, e.g. http://rgw.example:7480').default(''),
    s3Region: z.string().default('us-east-1'),
    s3Bucket: z.string().default(''),
    /** Key prefix inside the bucket, so that several registries can share one. */
    s3Prefix: z.string().default(''),
    /** Bucket in the URL path (http://host/bucket/key) rather than the host name: most self-hosted stores need it. */
    s3ForcePathStyle: bool.default(true),
    /** Blob GETs answer 307 to a presigned URL of the store, so the bytes do not pass through Wharf. */
    s3Redirect: bool.default(false),
    /** How long a presigned redirect URL stays valid. */
    s3RedirectTtl: duration.prefault('20m'),
    /** Static credentials; when empty, the AWS SDK's default chain (AWS_ACCESS_KEY_ID…, profiles, instance roles). */
    s3AccessKeyId: z.string().default(''),
    s3SecretAccessKey: z.string().default(''),
    /** Seconds an S3 request may wait to connect or for the store's next bytes before it fails. */
    s3RequestTimeout: duration.prefault(30),
  }),
  database: z.strictObject({
    engine: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** SQLite file; defaults to <dataDir>/wharf.db. */
    sqlitePath: z.string().default(''),
    /** PostgreSQL connection string, e.g. postgres://user:pass@host:5432/wharf. */
    url: z.string().default(''),
    poolSize: z.coerce.number().int().min(1).max(200).default(10),
    /**
     * Seconds a request waits for a PostgreSQL connection (a new one, or a free one from the pool)
     * before it is answered 503: an unreachable server must not hold requests for the TCP timeout.
     */
    connectTimeout: duration.prefault(10),
    /**
     * PostgreSQL parses and plans each distinct statement once per connection (named prepared
     * statements) instead of at every request. Turn off behind a pooler that cannot keep them
     * (PgBouncer in transaction mode before 1.21).
     */
    prepareStatements: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
  }),
  registry: z.strictObject({
    /** When false, DELETE of manifests, tags and blobs answers 405 UNSUPPORTED. */
    deleteEnabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
    /** An upload session untouched this long is abandoned and its staged data removed. */
    uploadExpiry: duration.prefault('24h'),
    /** How often abandoned uploads are looked for. */
    uploadPurgeInterval: duration.prefault('1h'),
    /** How long a deleted image stays restorable in the trash. */
    trashRetention: duration.prefault('30d'),
    /** How often expired trash is purged and scheduled retention runs are looked for. */
    maintenanceInterval: duration.prefault('10m'),
    /** Default and maximum page size of the tags list and catalog. */
    maxPageSize: z.coerce.number().int().min(1).max(100000).default(10000),
  }),
  auth: z.strictObject({
    /**
     * Off only for development and benchmarks against registries without auth: every client then has
     * full access. Wharf warns loudly at start when it is off.
     */
    enabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
    /** The `service` of Docker token authentication (the token's audience). */
    service: z.string().min(1).default('wharf'),
    /** Lifetime of registry access tokens. */
    tokenTtl: duration.prefault('5m'),
    /** Lifetime of refresh tokens (docker login's identity token). */
    refreshTokenTtl: duration.prefault('30d'),
    /** Name of the account created at first start. */
    defaultAccount: z.string().min(1).default('default'),
    /** Administrator created at first start, owner of the default account. */
    adminUser: z.string().min(1).default('admin'),
    /** Password of that administrator at first start (also WHARF_ADMIN_PASSWORD); generated and printed once when empty. */
    adminPassword: z.string().default(''),
    /** Failed logins per user (or API key) and source address before that source has to wait between tries. */
    maxFailedLogins: z.coerce.number().int().min(1).default(10),
    /** Failed logins of a user from a source are forgotten after this long without another. */
    loginWindow: duration.prefault('1h'),
    /** How long a source waits after maxFailedLogins failures; each further failure doubles it. */
    loginBackoff: duration.prefault('1s'),
    /** The longest a source waits between tries. */
    loginMaxBackoff: duration.prefault('15m'),
    /** Account Managers pushing to a namespace nobody owns create it in their account. */
    autoCreateNamespaces: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
  }),
  scanner: z.strictObject({
    /** Scan every pushed image in the background (Vulnerability Advisor). */
    enabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
    /** Scans run at once by one process. */
    concurrency: z.coerce.number().int().min(1).max(64).default(1),
    /** How often queued background jobs are looked for. */
    pollInterval: duration.prefault('2s'),
    /** How often the advisory feed is synced (one replica does it); 0 turns the scheduled sync off. */
    syncInterval: duration.prefault('1d'),
    /** Where OSV's per-ecosystem exports are (`<feedBase>/<ecosystem>/all.zip`): OSV's bucket, a mirror's URL, or a local directory. */
    feedBase: z.string().trim().min(1).default('https://osv-vulnerabilities.storage.googleapis.com')
      .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(https?|file):\/\//i.test(v), 'must be an http(s):// URL, a file:// URL or a directory path'),
    /** OSV ecosystems to sync whatever the images contain (e.g. "Debian,npm"); empty: those the scanned images contain. */
    ecosystems: z.union([z.array(z.string()), z.string()]).default([])
      .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((e) => e.trim()).filter((e) => e !== '')),
    /** Advisory data not updated for longer than this is flagged as stale in image lists and reports. */
    staleAfter: duration.prefault('7d'),
  }),
  webhooks: z.strictObject({
    /** Deliver webhook events from this process (events are recorded either way, and any replica delivers them). */
    enabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
    /** Deliveries in flight at once from one process. */
    concurrency: z.coerce.number().int().min(1).max(64).default(4),
    /** How long a receiver has to answer one delivery. */
    timeout: duration.prefault('10s'),
    /** Tries of one delivery before it is marked failed (and the next event of its repository goes). */
    maxAttempts: z.coerce.number().int().min(1).max(100).default(10),
    /** The wait after the first failed try; it doubles with each further one, up to an hour. */
    retryBackoff: duration.prefault('1s'),
    /** How often pending deliveries are looked for (a push on this process wakes the worker at once). */
    pollInterval: duration.prefault('1s'),
    /**
     * Receivers on loopback, private, link-local (cloud metadata) and other non-public addresses may
     * be called. Off by default: tenants must not reach the registry's own network through it.
     */
    allowPrivateNetworks: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
    /** How long delivered and failed deliveries stay in the delivery log. */
    logRetention: duration.prefault('14d'),
  }),
  metrics: z.strictObject({
    /**
     * Bearer token Prometheus sends to GET /metrics on the registry's port. Empty: /metrics on the
     * registry's port is refused (deny by default); use `listen` for an internal port instead.
     */
    token: z.string().default('').refine((t) => t === '' || t.length >= 16, 'must be at least 16 characters (or empty)'),
    /** `host:port` of a separate, unauthenticated listener serving only /metrics (e.g. 127.0.0.1:9464); empty for none. */
    listen: z.string().default('').refine((v) => v === '' || /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(v), 'must be host:port, e.g. 127.0.0.1:9464'),
  }),
  enforcement: z.strictObject({
    /**
     * Seconds the admission webhook has to decide before it answers by failOpen; keep it below the
     * webhook configuration's timeoutSeconds (10 by default), or the API server's failurePolicy decides instead.
     */
    evaluationTimeout: duration.prefault(8),
    /** When the registry cannot decide in time (or its database is down): admit with a warning instead of denying. */
    failOpen: bool.default(false),
    /**
     * Hosts clusters name this registry's images with (YAML list, or comma-separated in the variable),
     * beside http.publicUrl's host and the host the webhook is called at; other hosts are other registries.
     */
    registryHosts: z.union([z.array(z.string()), z.string()]).transform((value, ctx): string[] => {
      const hosts = (typeof value === 'string' ? value.split(',') : value).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
      const wrong = hosts.filter((h) => !/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(h));
      if (wrong.length > 0) {
        ctx.addIssue({ code: 'custom', message: `${wrong.map((h) => `"${h}"`).join(', ')} ${wrong.length > 1 ? 'are' : 'is'} not a host[:port] such as registry.example.com or 10.0.0.5:5000` });
        return z.NEVER;
      }
      return hosts;
    }).prefault([]),
    /**
     * `host:port` of a listener serving only the admission webhook (e.g. 0.0.0.0:8443), with its own
     * certificate; empty: the webhook is served on the registry's port (http.*).
     */
    listen: z.string().default('').refine((v) => v === '' || /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(v), 'must be host:port, e.g. 0.0.0.0:8443'),
    /** PEM certificate (then intermediates) of the webhook listener; the cluster must trust it (caBundle). */
    tlsCert: z.string().default(''),
    /** PEM private key of enforcement.tlsCert (unencrypted). */
    tlsKey: z.string().default(''),
  }),
  console: z.strictObject({
    /** Serve the web console at / (the built files of web/, shipped in dist/console). */
    enabled: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(true),
  }),
  audit: z.strictObject({
    /** How long audit events are kept; older ones are deleted by the maintenance task (0 keeps them forever). */
    retention: duration.prefault('90d'),
    /** How often batched events (pulls, repeated logins, token grants) are written, each as one row with a count. */
    flushInterval: duration.prefault('5s'),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }),
};

export const configSchema = z.strictObject({
  http: configSections.http.prefault({}),
  storage: configSections.storage.prefault({}),
  database: configSections.database.prefault({}),
  registry: configSections.registry.prefault({}),
  auth: configSections.auth.prefault({}),
  scanner: configSections.scanner.prefault({}),
  webhooks: configSections.webhooks.prefault({}),
  metrics: configSections.metrics.prefault({}),
  enforcement: configSections.enforcement.prefault({}),
  console: configSections.console.prefault({}),
  audit: configSections.audit.prefault({}),
  log: configSections.log.prefault({}),
}).superRefine((config, ctx) => {
  if (Boolean(config.http.tlsCert) !== Boolean(config.http.tlsKey)) {
    const [missing, set] = config.http.tlsCert ? ['tlsKey', 'tlsCert'] : ['tlsCert', 'tlsKey'];
    ctx.addIssue({ code: 'custom', path: ['http', missing], message: `is required when http.${set} is set: HTTPS needs both the certificate and its private key (or set neither for plain HTTP)` });
  }
  if (Boolean(config.enforcement.tlsCert) !== Boolean(config.enforcement.tlsKey)) {
    const [missing, set] = config.enforcement.tlsCert ? ['tlsKey', 'tlsCert'] : ['tlsCert', 'tlsKey'];
    ctx.addIssue({ code: 'custom', path: ['enforcement', missing], message: `is required when enforcement.${set} is set: the webhook listener needs both the certificate and its private key` });
  }
  if (config.enforcement.tlsCert && !config.enforcement.listen) {
    ctx.addIssue({ code: 'custom', path: ['enforcement', 'listen'], message: 'is required when enforcement.tlsCert is set: the certificate is the webhook listener\'s (without a listener, the webhook is on the registry\'s port and uses http.tlsCert)' });
  }
  if (config.database.engine === 'postgres' && !config.database.url) {
    ctx.addIssue({ code: 'custom', path: ['database', 'url'], message: 'is required when database.engine is "postgres" (set WHARF_DATABASE_URL)' });
  }
  if (config.storage.driver === 's3') {
    if (!config.storage.s3Bucket) {
      ctx.addIssue({ code: 'custom', path: ['storage', 's3Bucket'], message: 'is required when storage.driver is "s3" (set WHARF_STORAGE_S3_BUCKET)' });
    } else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.storage.s3Bucket)) {
      ctx.addIssue({ code: 'custom', path: ['storage', 's3Bucket'], message: `"${config.storage.s3Bucket}" is not an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens` });
    }
    if (Boolean(config.storage.s3AccessKeyId) !== Boolean(config.storage.s3SecretAccessKey)) {
      ctx.addIssue({ code: 'custom', path: ['storage', 's3SecretAccessKey'], message: 'storage.s3AccessKeyId and storage.s3SecretAccessKey go together: set both, or neither to use the AWS credential chain' });
    }
    if (config.storage.s3Prefix.startsWith('/')) {
      ctx.addIssue({ code: 'custom', path: ['storage', 's3Prefix'], message: 'must not start with "/": keys are relative to the bucket, e.g. "wharf/"' });
    }
  }
});

export type WharfConfig = z.output<typeof configSchema>;
export type WharfConfigInput = z.input<typeof configSchema>;
