import { useState } from 'react';
import { api, enc } from '../api';
import { Badge, ErrorNote, Loading, useLoad } from '../common';
import { shortDigest } from '../format';
import { follow } from '../router';
import type { ImageSignatures, PolicyCheck, SignatureVerdict } from '../types';

const FORMAT: Record<SignatureVerdict['format'], string> = { 'simple-signing': 'Simple signing (GPG)', cosign: 'Sigstore / cosign', notation: 'Notation (x509)' };
const SOURCE: Record<NonNullable<SignatureVerdict['source']>, string> = { 'signature-api': 'signature API', tag: 'cosign tag', referrer: 'referrer' };

/** An image's Signatures tab: what signs it and whether that verifies, and whether deployment enforcement would admit it. */
export function Signatures({ name, digest, tags }: { name: string; digest: string; tags: string[] }) {
  return (
    <>
      <SignatureList name={name} digest={digest} />
      <DeploymentPolicy name={name} digest={digest} tags={tags} />
    </>
  );
}

function SignatureList({ name, digest }: { name: string; digest: string }) {
  const loaded = useLoad(() => api<ImageSignatures>('GET', `/images/${enc(`${name}@${digest}`)}/signatures`), `${name}@${digest}`);
  const s = loaded.data;
  return (
    <section aria-labelledby="signatures-title">
      <h2 id="signatures-title">Signatures</h2>
      <ErrorNote message={loaded.error} />
      {loaded.loading && !s ? <Loading what="the signatures" /> : null}
      {s ? (
        <p className="signed-summary" data-testid="signed-summary">
          {s.verified
            ? <><Badge tone="good">Verified</Badge> by trusted key{s.verifiedBy.length === 1 ? '' : 's'} {s.verifiedBy.join(', ')}.</>
            : s.signatures.length
              ? <><Badge tone="warn">Unverified</Badge> No signature verifies with a key your account trusts (see <a href="/trust/keys" onClick={follow}>Trusted keys</a>).</>
              : <><Badge tone="pending">Not signed</Badge> Sign it with <code>cosign sign --key</code>, <code>skopeo copy --sign-by</code> or <code>notation sign</code>.</>}
        </p>
      ) : null}
      {s && s.signatures.length ? (
        <div className="table-wrap">
          <table className="stack">
            <caption className="visually-hidden">Signatures and attestations of this image</caption>
            <thead><tr><th scope="col">Format</th><th scope="col">Kind</th><th scope="col">Stored as</th><th scope="col">Verified</th><th scope="col">Signer</th></tr></thead>
            <tbody>
              {s.signatures.map((v, i) => (
                <tr key={`${v.manifest ?? ''}-${i}`} data-testid="signature">
                  <td data-label="Format">{FORMAT[v.format] ?? v.format}</td>
                  <td data-label="Kind">{v.kind ?? 'signature'}{v.predicateType ? <div className="muted"><code className="break">{v.predicateType}</code></div> : null}</td>
                  <td data-label="Stored as">{v.source ? SOURCE[v.source] : '—'}{v.manifest ? <div><code title={v.manifest}>{shortDigest(v.manifest)}</code></div> : null}</td>
                  <td data-label="Verified">
                    {v.verified ? <Badge tone="good">{`Verified: ${v.key ?? ''}`}</Badge> : <><Badge tone="bad">Not verified</Badge> <span>{v.reason ?? ''}</span></>}
                  </td>
                  <td data-label="Signer">{v.signer ?? v.keyId ?? '—'}{v.identity ? <div className="muted">claims <code className="break">{v.identity}</code></div> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function describePolicy(policy: PolicyCheck['policy']): string {
  if (!policy) return 'No image policy applies to this image, so it is denied (an account Manager sets one on the Image policies page).';
  switch (policy.scope) {
    case 'cluster': return 'The cluster-wide default policy applies.';
    case 'account': return 'The account\'s policy applies.';
    case 'namespace': return `The policy of namespace ${policy.target} applies.`;
    case 'repository': return `The policy of repository ${policy.target} applies.`;
  }
}

/** The admission webhook's answer for this image, asked with the person's own rights (POST /policies/images/check). */
function DeploymentPolicy({ name, digest, tags }: { name: string; digest: string; tags: string[] }) {
  const host = location.host;
  const choices = [...tags.map((t) => `${host}/${name}:${t}`), `${host}/${name}@${digest}`];
  const [image, setImage] = useState(choices[0]!);
  const loaded = useLoad(() => api<PolicyCheck>('POST', '/policies/images/check', { image }), image);
  const check = loaded.data;
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Deployment policy</h2>
      <div className="toolbar">
        <label htmlFor="check-image">Deploying</label>
        <select id="check-image" value={image} onChange={(e) => setImage(e.target.value)}>
          {choices.map((c) => <option key={c} value={c}>{c.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1…')}</option>)}
        </select>
        <button type="button" className="button small" onClick={loaded.reload} disabled={loaded.loading}>Check again</button>
      </div>
      <ErrorNote message={loaded.error} />
      {loaded.loading && !check ? <Loading what="the policy decision" /> : null}
      {check ? (
        <div className={`note ${check.allowed ? 'info' : 'error'} decision`} data-testid="policy-decision">
          <p><Badge tone={check.allowed ? 'good' : 'bad'}>{check.allowed ? 'Allowed' : 'Denied'}</Badge> {describePolicy(check.policy)}</p>
          {check.failures.length ? (
            <>
              <p id="failed-rules">Rules that failed:</p>
              <ul aria-labelledby="failed-rules">
                {check.failures.map((f, i) => <li key={i} data-testid="policy-failure"><code>{f.rule}</code> {f.message}</li>)}
              </ul>
            </>
          ) : null}
          <p className="wrap">The webhook says: <q data-testid="policy-message">{check.message}</q></p>
          <p className="muted">As the admission webhook would decide with your access: <a href="/policies" onClick={follow}>Image policies</a>.</p>
        </div>
      ) : null}
    </section>
  );
}
