import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describeRun, runCommand } from './process.js';

/**
 * A private CA and server certificates made with the `openssl` command line, as an operator would,
 * in a directory the caller owns (and removes).
 */

/** Whether `openssl` can be run; a reason to skip otherwise (Debian package "openssl", installed by .ci/run). */
export const opensslMissing: string | false = await runCommand('openssl', ['version']).then(
  (r) => (r.code === 0 ? false : 'openssl does not run (Debian package "openssl")'),
  () => 'openssl is not installed (Debian package "openssl")',
);

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await runCommand('openssl', args, { cwd, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(describeRun('openssl', args, result));
}

export interface TestCa {
  dir: string;
  /** ca.crt: the PEM certificate clients trust. */
  certFile: string;
  keyFile: string;
  cert: Buffer;
}

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's serial number in hex, as X509Certificate and tls.getPeerCertificate() spell it. */
  serialNumber: string;
  fingerprint256: string;
}

/** A self-signed CA (EC P-256, valid two days) in `dir`. */
export async function makeCa(dir: string, name = 'ca'): Promise<TestCa> {
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=Wharf test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const certFile = path.join(dir, `${name}.crt`);
  return { dir, certFile, keyFile: path.join(dir, `${name}.key`), cert: readFileSync(certFile) };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`, as `<name>.crt` and `<name>.key` in the CA's directory. */
export async function issueServerCertificate(ca: TestCa, name: string): Promise<ServerCertificate> {
  const dir = ca.dir;
  writeFileSync(path.join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
  const certFile = path.join(dir, `${name}.crt`);
  const cert = new X509Certificate(readFileSync(certFile));
  return { certFile, keyFile: path.join(dir, `${name}.key`), serialNumber: cert.serialNumber, fingerprint256: cert.fingerprint256 };
}

/** The certificate a new TLS connection to `url` is served, checked against `ca`. */
export async function servedCertificate(url: string, ca: Buffer): Promise<tls.PeerCertificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // An IP address is not a server name (SNI): the certificate is checked against its IP SAN.
    const socket = tls.connect({ host: hostname, port: Number(port), ca, ...(/^[\d.]+$/.test(hostname) ? {} : { servername: hostname }) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no TLS handshake with ${url} in 30 s`)));
    socket.once('error', reject);
  });
}
