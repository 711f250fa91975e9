import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions, type Permissions } from '../common';
import { date } from '../format';
import type { ImagePolicy, Namespace, PolicyScope, StoredPolicy, TrustKey } from '../types';

const SEVERITIES = ['none', 'negligible', 'low', 'medium', 'high', 'critical'];

/** Where a policy lives in the API: /policies/images/{account|namespaces/{ns}|repositories/{ns%2Frepo}}. */
function pathOf(scope: PolicyScope, target: string): string {
  if (scope === 'cluster' || scope === 'account') return `/policies/images/${scope}`;
  return `/policies/images/${scope === 'namespace' ? 'namespaces' : 'repositories'}/${enc(target)}`;
}

function placeOf(p: Pick<StoredPolicy, 'scope' | 'target'>): string {
  switch (p.scope) {
    case 'cluster': return 'Cluster-wide default';
    case 'account': return 'Account';
    case 'namespace': return `Namespace ${p.target}`;
    case 'repository': return `Repository ${p.target}`;
  }
}

/** The cluster default is the registry operator's (wharf policy set --cluster); the others their Managers'. */
function mayChange(perms: Permissions, p: Pick<StoredPolicy, 'scope' | 'target'>): boolean {
  if (p.scope === 'cluster') return false;
  if (p.scope === 'account') return perms.canManage;
  return perms.canManageIn(p.target.split('/')[0]!);
}

/** Deployment enforcement's image policies the caller can see; Managers set and remove them. */
export function ImagePolicies() {
  const perms = usePermissions();
  const loaded = useLoad(() => api<{ policies: StoredPolicy[] }>('GET', '/policies/images'), 'policies');
  const namespaces = useLoad(() => api<{ namespaces: Namespace[] }>('GET', '/namespaces'), 'ns');
  const keys = useLoad(() => api<{ keys: TrustKey[] }>('GET', '/trust/keys'), 'keys');
  const manageable = (namespaces.data?.namespaces ?? []).map((n) => n.name).filter(perms.canManageIn);
  const [editing, setEditing] = useState<Pick<StoredPolicy, 'scope' | 'target' | 'policy'> | undefined>();
  const action = useAction();
  const policies = loaded.data?.policies ?? [];

  const remove = async (p: StoredPolicy) => {
    if (!confirm(`Remove the image policy of ${placeOf(p).toLowerCase()}? The next less specific policy then applies; with none, images are denied.`)) return;
    if (await action.run(() => api('DELETE', pathOf(p.scope, p.target)))) loaded.reload();
  };
  const saved = () => { setEditing(undefined); loaded.reload(); };

  return (
    <Page title="Image policies">
      <p className="muted">
        Which images the clusters may run. The most specific policy applies, not merged: a repository&apos;s, else its namespace&apos;s, else the account&apos;s,
        else the cluster-wide default. Without any policy, every image is denied. Check one image on its Signatures &amp; policy tab.
      </p>
      {perms.canManage || manageable.length ? (
        <PolicyForm
          key={editing ? `${editing.scope}:${editing.target}` : 'new'}
          editing={editing} accountWide={perms.canManage} namespaces={manageable}
          keys={(keys.data?.keys ?? []).map((k) => k.name)} onSaved={saved} onCancel={() => setEditing(undefined)}
        />
      ) : null}
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !loaded.data ? <Loading what="image policies" /> : null}
      {loaded.data && policies.length === 0 ? (
        <div className="empty">
          <h2>No image policies yet</h2>
          <p>Every image is denied by the admission webhooks until one applies. {perms.canManage ? 'Set one above, or with' : 'An account Manager sets them, e.g. with'} <code>wharf policy set --account --allow-namespace team-a</code>.</p>
        </div>
      ) : null}
      {policies.map((p) => (
        <section key={`${p.scope}:${p.target}`} className="card" aria-label={placeOf(p)} data-testid="image-policy">
          <header className="page-head">
            <h2>{placeOf(p)}</h2>
            {mayChange(perms, p) ? (
              <div className="page-actions">
                <button type="button" className="button small" onClick={() => { setEditing(p); scrollTo({ top: 0 }); }} aria-label={`Edit policy of ${placeOf(p).toLowerCase()}`}>Edit</button>
                <button type="button" className="button small danger" disabled={action.busy} onClick={() => remove(p)} aria-label={`Remove policy of ${placeOf(p).toLowerCase()}`}>Remove</button>
              </div>
            ) : null}
          </header>
          <Rules policy={p.policy} />
          <p className="muted">Updated {date(p.updated)} by {p.updatedBy}{p.scope === 'cluster' ? ' · the registry operator changes it with wharf policy set --cluster' : ''}</p>
        </section>
      ))}
    </Page>
  );
}

function Rules({ policy }: { policy: ImagePolicy }) {
  const v = policy.vulnerabilities;
  return (
    <dl className="facts">
      {policy.registries ? <><dt>Other registries</dt><dd>{policy.registries.join(', ') || 'none'}</dd></> : null}
      <dt>Allowed repositories</dt><dd>{policy.namespaces ? policy.namespaces.join(', ') || 'none' : 'any of the account'}</dd>
      <dt>Signed by</dt><dd>{policy.signedBy?.length ? policy.signedBy.join(' or ') : 'no signature needed'}</dd>
      <dt>Vulnerabilities</dt>
      <dd>
        {v ? [
          v.maxSeverity ? `at most ${v.maxSeverity.toLowerCase()}` : null,
          v.maxScanAgeDays ? `scanned in the last ${v.maxScanAgeDays} days` : null,
          v.allowUnsupportedOs ? 'unsupported OS allowed' : null,
        ].filter(Boolean).join(', ') || 'scanned' : 'not checked'}
      </dd>
      <dt>Require digest</dt><dd>{policy.requireDigest ? 'yes' : 'no'}</dd>
    </dl>
  );
}

const list = (text: string) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

function PolicyForm({ editing, accountWide, namespaces, keys, onSaved, onCancel }: {
  editing: Pick<StoredPolicy, 'scope' | 'target' | 'policy'> | undefined; accountWide: boolean; namespaces: string[]; keys: string[];
  onSaved: () => void; onCancel: () => void;
}) {
  const start = editing?.policy ?? {};
  const [scope, setScope] = useState<PolicyScope>(editing?.scope ?? (accountWide ? 'account' : 'namespace'));
  const [target, setTarget] = useState(editing?.target ?? (scope === 'namespace' ? namespaces[0] ?? '' : ''));
  const [allowed, setAllowed] = useState((start.namespaces ?? []).join(', '));
  const [signedBy, setSignedBy] = useState((start.signedBy ?? []).join(', '));
  const [severity, setSeverity] = useState(start.vulnerabilities?.maxSeverity?.toLowerCase() ?? '');
  const [scanAge, setScanAge] = useState(start.vulnerabilities?.maxScanAgeDays ? String(start.vulnerabilities.maxScanAgeDays) : '');
  const [requireDigest, setRequireDigest] = useState(start.requireDigest ?? false);
  const action = useAction();

  const save = async (event: FormEvent) => {
    event.preventDefault();
    // Rules the form does not show (allowUnsupportedOs, registries) are kept as they were.
    const vulnerabilities = { ...(start.vulnerabilities?.allowUnsupportedOs ? { allowUnsupportedOs: true } : {}), ...(severity ? { maxSeverity: severity } : {}), ...(scanAge ? { maxScanAgeDays: Number(scanAge) } : {}) };
    const body: ImagePolicy = {
      ...(start.registries ? { registries: start.registries } : {}),
      ...(list(allowed).length ? { namespaces: list(allowed) } : {}),
      ...(list(signedBy).length ? { signedBy: list(signedBy) } : {}),
      ...(Object.keys(vulnerabilities).length ? { vulnerabilities } : {}),
      ...(requireDigest ? { requireDigest: true } : {}),
    };
    if (await action.run(() => api('PUT', pathOf(scope, target.trim()), body))) onSaved();
  };

  return (
    <form className="card form-grid" onSubmit={save} aria-labelledby="policy-form-title">
      <h2 id="policy-form-title">{editing ? `Edit the policy of ${placeOf(editing).toLowerCase()}` : 'Set a policy'}</h2>
      <label htmlFor="policy-scope">Applies to</label>
      <select id="policy-scope" value={scope} disabled={!!editing} onChange={(e) => { const s = e.target.value as PolicyScope; setScope(s); setTarget(s === 'namespace' ? namespaces[0] ?? '' : ''); }}>
        {accountWide ? <option value="account">the account</option> : null}
        <option value="namespace">a namespace</option>
        <option value="repository">a repository</option>
      </select>
      {scope === 'namespace' ? (
        <>
          <label htmlFor="policy-target">Namespace</label>
          <select id="policy-target" value={target} disabled={!!editing} onChange={(e) => setTarget(e.target.value)}>
            {(editing && !namespaces.includes(target) ? [target, ...namespaces] : namespaces).map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </>
      ) : null}
      {scope === 'repository' ? (
        <>
          <label htmlFor="policy-target">Repository</label>
          <input id="policy-target" required value={target} readOnly={!!editing} onChange={(e) => setTarget(e.target.value)} placeholder="namespace/repository" />
        </>
      ) : null}
      <label htmlFor="policy-namespaces">Allowed repositories</label>
      <input id="policy-namespaces" value={allowed} onChange={(e) => setAllowed(e.target.value)} placeholder="any; or team-a, team-b/app*" aria-describedby="policy-namespaces-hint" />
      <span id="policy-namespaces-hint" className="muted hint">Namespace globs, comma-separated; empty admits any repository.</span>
      <label htmlFor="policy-signed-by">Signed by keys</label>
      <input id="policy-signed-by" value={signedBy} onChange={(e) => setSignedBy(e.target.value)} placeholder="no signature needed" aria-describedby="policy-keys-hint" />
      <span id="policy-keys-hint" className="muted hint">Trusted key names, comma-separated; one verifying signature is enough.{keys.length ? ` Keys: ${keys.join(', ')}.` : ' No trusted keys yet.'}</span>
      <label htmlFor="policy-severity">Highest open severity</label>
      <select id="policy-severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
        <option value="">not checked</option>
        {SEVERITIES.map((s) => <option key={s} value={s}>{s === 'none' ? 'none (no open issue)' : s}</option>)}
      </select>
      <label htmlFor="policy-scan-age">Scan at most (days)</label>
      <input id="policy-scan-age" type="number" min={1} max={3650} className="narrow" value={scanAge} onChange={(e) => setScanAge(e.target.value)} placeholder="any age" />
      <span className="form-gap" aria-hidden="true" />
      <label><input type="checkbox" checked={requireDigest} onChange={(e) => setRequireDigest(e.target.checked)} /> Require images named by digest</label>
      <ErrorNote message={action.error} />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={action.busy}>Save policy</button>
        {editing ? <button type="button" className="button" onClick={onCancel}>Cancel</button> : null}
      </div>
    </form>
  );
}
