/**
 * curl as a download client. Node's sockets hand a reader 64 KiB at a time, so a Node client
 * pulling a large blob tops out below what either server can send: curl reads as fast as the
 * kernel delivers, so the large-blob pull measures the servers, not the client.
 */
import { execFile, execFileSync } from 'node:child_process';

let available: boolean | undefined;

export function curlAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('curl', ['--version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/**
 * GETs `url` into /dev/null; resolves to the bytes received and curl's own transfer time (with
 * `follow`, of the redirect too, as a client sent to a presigned URL spends it).
 */
export function curlDownload(url: string, options: { follow?: boolean } = {}): Promise<{ status: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', ...(options.follow ? ['-L'] : []), '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', url], (err, stdout) => {
      if (err) return reject(new Error(`curl ${url} failed: ${err.message}`));
      const [status, bytes, seconds] = stdout.trim().split(' ').map(Number) as [number, number, number];
      resolve({ status, bytes, ms: seconds * 1000 });
    });
  });
}
