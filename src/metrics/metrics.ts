import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics read from the metadata store when Prometheus scrapes (bounded, cached briefly). */
export interface StoreFigures {
  uploadsInProgress(): Promise<number>;
  blobsStored(): Promise<{ count: number; bytes: number }>;
  scanQueue(): Promise<{ pending: number; failed: number }>;
  /** PostgreSQL pool use; undefined on SQLite. */
  pool(): { total: number; idle: number; waiting: number } | undefined;
}

/** Figures read from the database are reused this long: a scrape must stay cheap on a big registry. */
const FIGURES_TTL_MS = 15_000;

/**
 * The registry's Prometheus metrics (prom-client), in one registry of their own. Label values are
 * bounded sets (route families, methods, status codes, outcomes), never names or digests.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'family' | 'method' | 'status'>;
  private readonly durations: Histogram<'family' | 'method'>;
  private readonly received: Counter<'family'>;
  private readonly sent: Counter<'family'>;
  private readonly jobDurations: Histogram<'kind' | 'outcome'>;
  private readonly gcRuns: Counter<'outcome'>;
  private readonly gcFreedBytes: Counter;
  private readonly gcRemovedBlobs: Counter;
  private readonly gcDuration: Gauge;
  private readonly audits: Counter<'action' | 'outcome'>;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private cached: { at: number; blobs: { count: number; bytes: number } } | undefined;

  constructor(figures: StoreFigures, now: () => number = Date.now) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'wharf_' });
    this.requests = new Counter({ name: 'wharf_http_requests_total', help: 'HTTP requests answered, by route family, method and status', labelNames: ['family', 'method', 'status'], registers });
    this.durations = new Histogram({
      name: 'wharf_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route family and method', labelNames: ['family', 'method'], registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
    this.received = new Counter({ name: 'wharf_http_received_bytes_total', help: 'Request body bytes received (declared Content-Length), by route family', labelNames: ['family'], registers });
    this.sent = new Counter({ name: 'wharf_http_sent_bytes_total', help: 'Response body bytes sent (Content-Length), by route family', labelNames: ['family'], registers });
    this.jobDurations = new Histogram({
      name: 'wharf_job_duration_seconds', help: 'Background jobs run by this process (scans are kind "scan"), by outcome', labelNames: ['kind', 'outcome'], registers,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    });
    this.gcRuns = new Counter({ name: 'wharf_gc_runs_total', help: 'Garbage collections run by this process, by outcome', labelNames: ['outcome'], registers });
    this.gcFreedBytes = new Counter({ name: 'wharf_gc_freed_bytes_total', help: 'Bytes of blobs and orphaned files garbage collection removed', registers });
    this.gcRemovedBlobs = new Counter({ name: 'wharf_gc_removed_blobs_total', help: 'Blobs garbage collection removed', registers });
    this.gcDuration = new Gauge({ name: 'wharf_gc_last_duration_seconds', help: 'How long the last garbage collection of this process took', registers });
    this.audits = new Counter({ name: 'wharf_audit_events_total', help: 'Audit events (logins, token grants, denials, IAM changes), by action and outcome', labelNames: ['action', 'outcome'], registers });
    this.webhookDeliveries = new Counter({ name: 'wharf_webhook_deliveries_total', help: 'Webhook delivery attempts by this process, by outcome (delivered, retry, failed)', labelNames: ['outcome'], registers });

    new Gauge({
      name: 'wharf_uploads_in_progress', help: 'Upload sessions started and not yet completed or abandoned', registers,
      async collect() { this.set(await figures.uploadsInProgress()); },
    });
    const blobs = async () => {
      if (!this.cached || now() - this.cached.at > FIGURES_TTL_MS) this.cached = { at: now(), blobs: await figures.blobsStored() };
      return this.cached.blobs;
    };
    new Gauge({ name: 'wharf_blobs_stored', help: 'Blobs in the blob store', registers, async collect() { this.set((await blobs()).count); } });
    new Gauge({ name: 'wharf_blob_bytes_stored', help: 'Bytes of the blobs in the blob store', registers, async collect() { this.set((await blobs()).bytes); } });
    new Gauge({
      name: 'wharf_scan_queue', help: 'Vulnerability Advisor scan jobs waiting (state pending) or given up (failed)', labelNames: ['state'], registers,
      async collect() {
        const queue = await figures.scanQueue();
        this.set({ state: 'pending' }, queue.pending);
        this.set({ state: 'failed' }, queue.failed);
      },
    });
    new Gauge({
      name: 'wharf_db_pool_connections', help: 'PostgreSQL pool connections of this process (total, idle) and requests waiting for one', labelNames: ['state'], registers,
      collect() {
        const pool = figures.pool();
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }

  request(family: string, method: string, status: number, seconds: number, receivedBytes: number, sentBytes: number): void {
    this.requests.inc({ family, method, status: String(status) });
    this.durations.observe({ family, method }, seconds);
    if (receivedBytes > 0) this.received.inc({ family }, receivedBytes);
    if (sentBytes > 0) this.sent.inc({ family }, sentBytes);
  }

  job(kind: string, outcome: 'success' | 'failure', seconds: number): void {
    this.jobDurations.observe({ kind, outcome }, seconds);
  }

  gcRun(outcome: 'success' | 'failure' | 'busy', report?: { bytesFreed: number; orphanBytesFreed: number; blobsRemoved: number; durationMs: number; dryRun: boolean }): void {
    this.gcRuns.inc({ outcome });
    if (!report) return;
    this.gcDuration.set(report.durationMs / 1000);
    if (report.dryRun) return;
    this.gcFreedBytes.inc(report.bytesFreed + report.orphanBytesFreed);
    this.gcRemovedBlobs.inc(report.blobsRemoved);
  }

  audit(action: string, outcome: string): void {
    this.audits.inc({ action, outcome });
  }

  webhookDelivery(outcome: 'delivered' | 'retry' | 'failed'): void {
    this.webhookDeliveries.inc({ outcome });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
