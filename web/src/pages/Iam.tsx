import { api } from '../api';
import { ErrorNote, Loading, Page, useLoad } from '../common';
import { date } from '../format';
import { follow } from '../router';

type Row = Record<string, unknown>;

const SECTIONS: Array<{ title: string; path: string; field: string; columns: string[] }> = [
  { title: 'Users', path: '/iam/users', field: 'users', columns: ['id', 'username', 'owner', 'created'] },
  { title: 'Service IDs', path: '/iam/service-ids', field: 'serviceIds', columns: ['id', 'name', 'description', 'created'] },
  { title: 'Access groups', path: '/iam/groups', field: 'groups', columns: ['id', 'name', 'members', 'created'] },
  { title: 'Policies', path: '/iam/policies', field: 'policies', columns: ['id', 'subject', 'role', 'namespace', 'repository'] },
];

function cell(value: unknown, column: string): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ') || '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (column === 'created') return date(String(value));
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The account's principals and who may do what (Managers only; `wharf iam` changes them). */
export function Iam() {
  return (
    <Page title="Access (IAM)">
      <p className="muted">Users, service IDs, access groups and policies of your account. Change them with <code>wharf iam</code>; API keys have <a href="/iam/api-keys" onClick={follow}>their own page</a>.</p>
      {SECTIONS.map((s) => <Section key={s.path} {...s} />)}
    </Page>
  );
}

function Section({ title, path, field, columns }: { title: string; path: string; field: string; columns: string[] }) {
  const loaded = useLoad(() => api<Record<string, Row[]>>('GET', path), path);
  const rows = loaded.data?.[field];
  return (
    <section>
      <h2>{title}</h2>
      <ErrorNote message={loaded.error} />
      {loaded.loading && !rows ? <Loading what={title.toLowerCase()} /> : null}
      {rows && rows.length === 0 ? <p className="muted">None yet.</p> : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead><tr>{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
            <tbody>
              {rows.map((r, i) => <tr key={String(r.id ?? i)}>{columns.map((c) => <td key={c} data-label={c}>{cell(r[c], c)}</td>)}</tr>)}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
