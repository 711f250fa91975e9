import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import yazl from 'yazl';

/** A zip as OSV exports them: one `<ID>.json` per record. */
export async function osvZip(records: Array<Record<string, unknown>>, options: { compress?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const record of records) zip.addBuffer(Buffer.from(JSON.stringify(record, null, 2)), `${String(record.id)}.json`, { compress: options.compress ?? true, mtime: new Date('2026-11-25T00:00:00Z') });
  zip.end();
  return buffer(zip.outputStream);
}

export interface FeedRequest { path: string; ifNoneMatch: string | undefined; ifModifiedSince: string | undefined; status: number }

/**
 * A stand-in for OSV's bucket: serves `/<folder>/all.zip` with a strong ETag (the body's hash)
 * and Last-Modified, answers conditional requests with 304, and can be told to fail.
 */
export class OsvFeedServer {
  readonly requests: FeedRequest[] = [];
  private readonly exports = new Map<string, { body: Buffer; etag: string; lastModified: string }>();
  private readonly failures = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const entry = this.exports.get(path);
      const failure = this.failures.get(path);
      const answer = (status: number, headers: Record<string, string> = {}, body?: Buffer) => {
        this.requests.push({ path, ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'], status });
        res.writeHead(status, headers);
        res.end(body);
      };
      if (failure) return answer(failure, { 'Content-Type': 'text/plain' }, Buffer.from('backend error'));
      if (!entry) return answer(404, { 'Content-Type': 'application/xml' }, Buffer.from('<Error><Code>NoSuchKey</Code></Error>'));
      const validators = { ETag: entry.etag, 'Last-Modified': entry.lastModified };
      if (req.headers['if-none-match'] === entry.etag) return answer(304, validators);
      answer(200, { ...validators, 'Content-Type': 'application/zip', 'Content-Length': String(entry.body.length) }, entry.body);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Publishes an export; a new body gets a new ETag, as GCS gives it. */
  publish(folder: string, body: Buffer, lastModified = new Date()): void {
    this.exports.set(`/${folder}/all.zip`, { body, etag: `"${createHash('md5').update(body).digest('hex')}"`, lastModified: lastModified.toUTCString() });
  }

  fail(folder: string, status: number | undefined): void {
    if (status === undefined) this.failures.delete(`/${folder}/all.zip`);
    else this.failures.set(`/${folder}/all.zip`, status);
  }

  requestsFor(folder: string): FeedRequest[] {
    return this.requests.filter((r) => r.path === `/${folder}/all.zip`);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}
