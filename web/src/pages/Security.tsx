import { useMemo, useState, type FormEvent } from 'react';
import { api, enc } from '../api';
import { Badge, ErrorNote, Loading, useAction, useLoad, usePermissions } from '../common';
import { date, statusTone } from '../format';
import type { Report, Severity } from '../types';

const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NEGLIGIBLE', 'UNKNOWN'];
type Scope = 'image' | 'repository' | 'namespace' | 'account';

/** Where to read more about an advisory: CVEs at NVD, everything else at OSV. */
function advisoryUrl(id: string): string {
  return /^CVE-\d{4}-\d+$/.test(id) ? `https://nvd.nist.gov/vuln/detail/${id}` : `https://osv.dev/vulnerability/${id}`;
}

/** The Vulnerability Advisor's report of one image, with exemptions for Managers. */
export function Security({ name, digest }: { name: string; digest: string }) {
  const perms = usePermissions();
  const loaded = useLoad(() => api<Report>('GET', `/images/${enc(`${name}@${digest}`)}/report`), `${name}@${digest}`);
  const [severity, setSeverity] = useState<string>('');
  const [pkg, setPkg] = useState('');
  const [fixableOnly, setFixableOnly] = useState(false);
  const [exempting, setExempting] = useState<string | undefined>();
  const action = useAction();
  const report = loaded.data;

  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const v of report?.vulnerabilities ?? []) if (!v.exempt) c.set(v.severity, (c.get(v.severity) ?? 0) + 1);
    return c;
  }, [report]);
  const vulns = (report?.vulnerabilities ?? []).filter((v) => (!severity || v.severity === severity)
    && (!pkg || v.installedPackage.toLowerCase().includes(pkg.toLowerCase()))
    && (!fixableOnly || v.fixedVersion !== null));

  const removeExemption = async (id: number) => {
    if (await action.run(() => api('DELETE', `/exemptions/${id}`))) loaded.reload();
  };

  if (loaded.loading && !report) return <Loading what="the security report" />;
  if (!report) return <ErrorNote message={loaded.error} />;
  return (
    <div className="security">
      <ErrorNote message={loaded.error ?? action.error} />
      <p className="report-status">
        Status <Badge tone={statusTone(report.status)}>{report.status}</Badge>
        {report.exemptCount ? <span className="muted"> · {report.exemptCount} exempt</span> : null}
        <span className="muted"> · scanned {date(report.scannedAt)}{report.vulndbDate ? ` against advisories of ${date(report.vulndbDate)}` : ''}{report.os?.prettyName ? ` · ${report.os.prettyName}` : ''}</span>
      </p>
      {report.error ? <p className="note warn">{report.error}</p> : null}
      <ul className="severity-counts" aria-label="Open vulnerabilities by severity">
        {SEVERITIES.map((s) => <li key={s} className={`sev sev-${s.toLowerCase()}`}><strong>{counts.get(s) ?? 0}</strong> {s.toLowerCase()}</li>)}
      </ul>

      <h2>Vulnerabilities</h2>
      <div className="toolbar">
        <label>Severity{' '}
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">all</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
          </select>
        </label>
        <label>Package{' '}<input type="search" value={pkg} onChange={(e) => setPkg(e.target.value)} /></label>
        <label><input type="checkbox" checked={fixableOnly} onChange={(e) => setFixableOnly(e.target.checked)} /> Fixable only</label>
      </div>
      {report.vulnerabilities.length === 0 ? <p className="muted">No known vulnerabilities in the packages found.</p> : null}
      {vulns.length ? (
        <div className="table-wrap">
          <table className="vulns">
            <caption className="visually-hidden">Vulnerabilities found in this image</caption>
            <thead>
              <tr><th scope="col">Advisory</th><th scope="col">Severity</th><th scope="col">Package</th><th scope="col">Installed</th><th scope="col">Fixed in</th><th scope="col">Status</th></tr>
            </thead>
            <tbody>
              {vulns.map((v) => {
                const key = `${v.advisoryId} ${v.installedPackage}`;
                return (
                  <tr key={key} data-testid="vulnerability" className={v.exempt ? 'exempt' : undefined}>
                    <td data-label="Advisory">
                      <a href={advisoryUrl(v.advisoryId)} target="_blank" rel="noreferrer noopener">{v.advisoryId}</a>
                      {v.aliases.length ? <div className="muted small">{v.aliases.join(', ')}</div> : null}
                      {v.summary ? <div className="small">{v.summary}</div> : null}
                    </td>
                    <td data-label="Severity"><span className={`sev-label sev-${v.severity.toLowerCase()}`}>{v.severity.toLowerCase()}</span></td>
                    <td data-label="Package"><code>{v.installedPackage}</code><div className="muted small">{v.ecosystem}</div></td>
                    <td data-label="Installed"><code>{v.installedVersion}</code></td>
                    <td data-label="Fixed in">{v.fixedVersion ? <code>{v.fixedVersion}</code> : <span className="muted">no fix yet</span>}</td>
                    <td data-label="Status">
                      {v.exempt ? (
                        <>
                          <Badge tone="pending">Exempt</Badge>
                          {v.exemption ? <div className="small muted">{v.exemption.reason} ({v.exemption.by}){v.exemption.expiresAt ? `, until ${v.exemption.expiresAt.slice(0, 10)}` : ''}</div> : null}
                          {perms.canManage && v.exemption ? <button type="button" className="button small" onClick={() => removeExemption(v.exemption!.id)}>Remove exemption</button> : null}
                        </>
                      ) : (
                        <>
                          <Badge tone="bad">Open</Badge>
                          {perms.canManage ? <button type="button" className="button small" aria-expanded={exempting === key} onClick={() => setExempting(exempting === key ? undefined : key)}>Exempt…</button> : null}
                        </>
                      )}
                      {exempting === key ? (
                        <ExemptForm issueId={v.cves[0] ?? v.advisoryId} name={name} digest={digest} onDone={() => { setExempting(undefined); loaded.reload(); }} />
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : report.vulnerabilities.length ? <p className="muted">No vulnerability matches the filters.</p> : null}

      <h2>Configuration issues</h2>
      {report.configurationIssues.length === 0 ? <p className="muted">No configuration issues.</p> : (
        <ul className="config-issues">
          {report.configurationIssues.map((c) => {
            const key = `config ${c.checkId}`;
            return (
              <li key={c.checkId} className={c.exempt ? 'exempt' : undefined} data-testid="configuration-issue">
                <strong>{c.title}</strong> <code className="small">{c.checkId}</code> {c.exempt ? <Badge tone="pending">Exempt</Badge> : <Badge tone="warn">{c.severity}</Badge>}
                <p>{c.description} {c.detail ? <code>{c.detail}</code> : null}</p>
                <p className="muted">{c.remediation}</p>
                {!c.exempt && perms.canManage ? <button type="button" className="button small" aria-expanded={exempting === key} onClick={() => setExempting(exempting === key ? undefined : key)}>Exempt…</button> : null}
                {exempting === key ? <ExemptForm issueId={c.checkId} name={name} digest={digest} onDone={() => { setExempting(undefined); loaded.reload(); }} /> : null}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function ExemptForm({ issueId, name, digest, onDone }: { issueId: string; name: string; digest: string; onDone: () => void }) {
  const [scope, setScope] = useState<Scope>('image');
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState('');
  const action = useAction();
  const slash = name.indexOf('/');
  const namespace = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A date input gives a day: the exemption lasts to the end of it (UTC).
    const expiresAt = expires ? `${expires}T23:59:59Z` : undefined;
    const body = { issueId, scope, reason, ...(expiresAt ? { expiresAt } : {}), ...(scope !== 'account' ? { namespace } : {}), ...(scope === 'image' || scope === 'repository' ? { repository } : {}), ...(scope === 'image' ? { digest } : {}) };
    if (await action.run(() => api('POST', '/exemptions', body))) onDone();
  };
  const id = `exempt-${issueId}`;
  return (
    <form className="exempt-form" onSubmit={submit} aria-label={`Exempt ${issueId}`}>
      <label htmlFor={`${id}-scope`}>Exempt {issueId} for</label>
      <select id={`${id}-scope`} value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
        <option value="image">this image</option>
        <option value="repository">repository {name}</option>
        <option value="namespace">namespace {namespace}</option>
        <option value="account">the whole account</option>
      </select>
      <label htmlFor={`${id}-reason`}>Reason</label>
      <input id={`${id}-reason`} required value={reason} onChange={(e) => setReason(e.target.value)} placeholder="why the risk is accepted" />
      <label htmlFor={`${id}-expires`}>Expires (optional)</label>
      <input id={`${id}-expires`} type="date" value={expires} min={new Date().toISOString().slice(0, 10)} onChange={(e) => setExpires(e.target.value)} />
      <ErrorNote message={action.error} />
      <button type="submit" className="button primary small" disabled={action.busy}>Exempt</button>
    </form>
  );
}
