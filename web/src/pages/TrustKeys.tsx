import { useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions } from '../common';
import { date } from '../format';
import type { KeyKind, Namespace, TrustKey } from '../types';

const KINDS: Array<{ kind: KeyKind; label: string; hint: string }> = [
  { kind: 'sigstore', label: 'sigstore (cosign.pub)', hint: '-----BEGIN PUBLIC KEY----- (ECDSA P-256 or Ed25519)' },
  { kind: 'gpg', label: 'gpg (simple signing)', hint: '-----BEGIN PGP PUBLIC KEY BLOCK----- (gpg --armor --export)' },
  { kind: 'x509', label: 'x509 (notation CA)', hint: '-----BEGIN CERTIFICATE----- (the CA certificate)' },
];

/** The public keys the account trusts to sign images: everyone of the account reads them, Managers change them. */
export function TrustKeys() {
  const perms = usePermissions();
  const loaded = useLoad(() => api<{ keys: TrustKey[] }>('GET', '/trust/keys'), 'keys');
  const namespaces = useLoad(() => api<{ namespaces: Namespace[] }>('GET', '/namespaces'), 'ns');
  const manageable = (namespaces.data?.namespaces ?? []).map((n) => n.name).filter(perms.canManageIn);
  const mayRemove = (key: TrustKey) => (key.namespace === null ? perms.canManage : perms.canManageIn(key.namespace));
  const keys = loaded.data?.keys ?? [];
  const anyRemove = keys.some(mayRemove);
  const action = useAction();

  const remove = async (key: TrustKey) => {
    if (!confirm(`Stop trusting key ${key.name}? Image policies that name it admit no image it signed until a key of that name is added again.`)) return;
    if (await action.run(() => api('DELETE', `/trust/keys/${enc(key.name)}`))) loaded.reload();
  };

  return (
    <Page title="Trusted keys">
      <p className="muted">Signatures verify against these keys; image policies name them in <code>signedBy</code>. An account key applies to every namespace, a namespace key to that namespace only.</p>
      {perms.canManage || manageable.length ? <AddKey namespaces={manageable} accountWide={perms.canManage} onAdded={loaded.reload} /> : null}
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !loaded.data ? <Loading what="trusted keys" /> : null}
      {loaded.data && keys.length === 0 ? (
        <div className="empty">
          <h2>No trusted keys yet</h2>
          <p>{perms.canManage ? 'Add one above, or with' : 'An account Manager adds them, e.g. with'} <code>wharf trust key add ci --file cosign.pub</code>.</p>
        </div>
      ) : null}
      {keys.length ? (
        <div className="table-wrap">
          <table className="stack">
            <caption className="visually-hidden">Keys your account trusts to sign images</caption>
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Scope</th><th scope="col">Fingerprint</th><th scope="col">Added</th>
                {anyRemove ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.name} data-testid="trust-key-row">
                  <td data-label="Name"><strong>{k.name}</strong>{k.identities.length ? <div className="muted">{k.identities.join(', ')}</div> : null}</td>
                  <td data-label="Kind">{k.kind}</td>
                  <td data-label="Scope">{k.namespace === null ? 'account' : `namespace ${k.namespace}`}</td>
                  <td data-label="Fingerprint"><code className="break">{k.fingerprint}</code></td>
                  <td data-label="Added">{date(k.created)} <span className="muted">by {k.createdBy}</span></td>
                  {anyRemove ? (
                    <td data-label="Actions">
                      {mayRemove(k) ? <button type="button" className="button small danger" disabled={action.busy} onClick={() => remove(k)} aria-label={`Remove key ${k.name}`}>Remove</button> : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}

function AddKey({ namespaces, accountWide, onAdded }: { namespaces: string[]; accountWide: boolean; onAdded: () => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<KeyKind>('sigstore');
  const [scope, setScope] = useState(accountWide ? '' : namespaces[0] ?? '');
  const [publicKey, setPublicKey] = useState('');
  const action = useAction();
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const body = { name: name.trim(), kind, publicKey, namespace: scope === '' ? null : scope };
    if (await action.run(() => api('POST', '/trust/keys', body))) {
      setName('');
      setPublicKey('');
      onAdded();
    }
  };
  return (
    <form className="card form-grid" onSubmit={add} aria-labelledby="add-key-title">
      <h2 id="add-key-title">Add a trusted key</h2>
      <label htmlFor="key-name">Name</label>
      <input id="key-name" required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ci-key" />
      <label htmlFor="key-kind">Kind</label>
      <select id="key-kind" value={kind} onChange={(e) => setKind(e.target.value as KeyKind)}>
        {KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
      </select>
      <label htmlFor="key-scope">Scope</label>
      <select id="key-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
        {accountWide ? <option value="">the account (every namespace)</option> : null}
        {namespaces.map((n) => <option key={n} value={n}>namespace {n}</option>)}
      </select>
      <label htmlFor="key-text">Public key</label>
      <textarea id="key-text" required rows={6} value={publicKey} onChange={(e) => setPublicKey(e.target.value)} placeholder={KINDS.find((k) => k.kind === kind)?.hint} spellCheck={false} />
      <ErrorNote message={action.error} />
      <div><button type="submit" className="button primary" disabled={action.busy}>Add key</button></div>
    </form>
  );
}
