import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { certificateDateProblem } from '../../src/http/tls.js';

/** A self-signed certificate valid for 90 days; the checks are made relative to its own dates. */
const CERT = new X509Certificate(`-----BEGIN CERTIFICATE-----
MIIBjDCCATGgAwIBAgIURqlohYXOK+F8dPBLd/EQEAwaGqEwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQcmVnaXN0cnkuZXhhbXBsZTAeFw0yNjExMzAxMTAxMDhaFw0y
NzAyMjgxMTAxMDhaMBsxGTAXBgNVBAMMEHJlZ2lzdHJ5LmV4YW1wbGUwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAQTifaOmGYTJ2SGf3xtJuRp+pOUNyA3wEwgzYSf
fdqpGMXoriJsRVi14KSTgpaPs5aFYVIdqfWhcNsPX7yiOk5do1MwUTAdBgNVHQ4E
FgQUDOyF/3XPiMpUzBtSWDD3dzjtMCQwHwYDVR0jBBgwFoAUDOyF/3XPiMpUzBtS
WDD3dzjtMCQwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAl6bV
yUVqoimCEhGDi8QXayuMGFS8N92athU06/IJKL8CIQC1dp5UMqn3CUpuICRn64xJ
QvSWCC0fiC/5H1boyN+M5A==
-----END CERTIFICATE-----
`);
const DAY = 86_400_000;
const from = Date.parse(CERT.validFrom);
const to = Date.parse(CERT.validTo);

describe('the TLS certificate\'s dates', () => {
  it('a certificate well within its dates is fine', () => {
    assert.equal(certificateDateProblem(CERT, from + DAY), undefined);
    assert.equal(certificateDateProblem(CERT, to - 15 * DAY), undefined);
  });

  it('two weeks before its end, the warning says when and what to do', () => {
    assert.equal(certificateDateProblem(CERT, to - 3 * DAY), `the TLS certificate expires on ${CERT.validTo}, in 3 day(s): renew it, replace the files and send SIGHUP`);
  });

  it('an expired certificate and one not valid yet are told apart', () => {
    assert.match(certificateDateProblem(CERT, to) ?? '', /^the TLS certificate expired on .*clients refuse it\. Renew it/);
    assert.match(certificateDateProblem(CERT, from - DAY) ?? '', /^the TLS certificate is not valid before .*check this machine's clock/);
  });
});
