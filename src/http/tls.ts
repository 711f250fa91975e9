import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StartupError } from '../errors/startup.js';

/** What HTTPS is served with: the PEM certificate chain and its private key, as read from the files. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** The server certificate (first in the chain): for the log line of a start or a reload. */
  leaf: X509Certificate;
}

/**
 * Clients older than TLS 1.2 (SSL 3, TLS 1.0 and 1.1) are refused: every container client of the
 * last decade speaks 1.2, and the older versions have known attacks.
 */
export const TLS_MIN_VERSION = 'TLSv1.2';

const CERT_SETTING = 'http.tlsCert (WHARF_HTTP_TLS_CERT)';
const KEY_SETTING = 'http.tlsKey (WHARF_HTTP_TLS_KEY)';
const HTTP_SETTINGS = { cert: CERT_SETTING, key: KEY_SETTING };

function readPem(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'the file does not exist' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new StartupError(`${setting} ${file} cannot be read: ${why}${e.code ? ` (${e.code})` : ''}. Point it at a PEM file the user Wharf runs as may read.`, { cause: err });
  }
}

/**
 * Reads and checks the certificate and key files: both PEM, the key unencrypted and the private key
 * of the first certificate. Everything wrong is said here, naming the setting, rather than as an
 * OpenSSL error from the first handshake.
 */
export function loadTlsCredentials(certFile: string, keyFile: string, settings: { cert: string; key: string } = HTTP_SETTINGS): TlsCredentials {
  const { cert: CERT_SETTING, key: KEY_SETTING } = settings;
  const cert = readPem(CERT_SETTING, certFile);
  const key = readPem(KEY_SETTING, keyFile);
  if (!cert.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new StartupError(`${CERT_SETTING} ${certFile} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line). Give the server certificate in PEM, followed by any intermediate certificates; convert a DER file with \`openssl x509 -inform der -in cert.der -out cert.pem\`.`);
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new StartupError(`${CERT_SETTING} ${certFile} holds no readable certificate: ${(err as Error).message}. Check that the file is a whole PEM certificate.`, { cause: err });
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw new StartupError(`${KEY_SETTING} ${keyFile} is not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" line). Give the certificate's private key in PEM.`);
  }
  // PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY") and the older OpenSSL form ("Proc-Type: 4,ENCRYPTED").
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(key.toString('latin1'))) {
    throw new StartupError(`${KEY_SETTING} ${keyFile} is encrypted with a passphrase, which Wharf cannot be given. Decrypt it with \`openssl pkey -in encrypted.key -out server.key\` and keep the file readable only by Wharf's user.`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new StartupError(`${KEY_SETTING} ${keyFile} holds no readable private key: ${(err as Error).message}. Check that the file is a whole PEM private key.`, { cause: err });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new StartupError(`${KEY_SETTING} ${keyFile} is not the private key of the certificate in ${CERT_SETTING} ${certFile} (subject ${leaf.subject.replace(/\n/g, ', ')}). Give the key the certificate was issued for; after a renewal, make sure both files were replaced.`);
  }
  return { cert, key, leaf };
}

/** The certificate's fields worth a log line: who it is for, until when, and which one it is. */
export function describeCertificate(leaf: X509Certificate): Record<string, string> {
  return { subject: leaf.subject.replace(/\n/g, ', '), issuer: leaf.issuer.replace(/\n/g, ', '), serialNumber: leaf.serialNumber, validTo: leaf.validTo, fingerprint256: leaf.fingerprint256 };
}

/** How long before its end a certificate is worth a warning at each start and reload. */
const EXPIRY_WARNING_MS = 14 * 86_400_000;

/**
 * What is wrong with the certificate's dates at `now`, if anything. Not a refusal: a certificate
 * about to run out still serves, and one out of date may be a wrong clock here rather than there.
 */
export function certificateDateProblem(leaf: X509Certificate, now: number): string | undefined {
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  if (now < from) return `the TLS certificate is not valid before ${leaf.validFrom}: clients refuse it until then (check this machine's clock)`;
  if (now >= to) return `the TLS certificate expired on ${leaf.validTo}: clients refuse it. Renew it, replace the files and send SIGHUP`;
  if (to - now < EXPIRY_WARNING_MS) return `the TLS certificate expires on ${leaf.validTo}, in ${Math.ceil((to - now) / 86_400_000)} day(s): renew it, replace the files and send SIGHUP`;
  return undefined;
}
