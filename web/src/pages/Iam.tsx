import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { ErrorNote, Loading, Page, useAction, useLoad, usePermissions, type Loaded } from '../common';
import { date } from '../format';
import { follow } from '../router';

interface User { id: number; username: string; owner: boolean; created: string }
interface ServiceId { id: number; name: string; description: string; created: string }
interface Group { id: number; name: string; members: string[]; created: string }
interface Policy { id: number; subject: string; role: string; scope: string; namespace: string | null; repository: string | null }

/** The account's principals and who may do what: account Managers add and remove them here (or with `wharf iam`). */
export function Iam() {
  const { me } = usePermissions();
  const users = useLoad(() => api<{ users: User[] }>('GET', '/iam/users'), 'users');
  const services = useLoad(() => api<{ serviceIds: ServiceId[] }>('GET', '/iam/service-ids'), 'services');
  const groups = useLoad(() => api<{ groups: Group[] }>('GET', '/iam/groups'), 'groups');
  const policies = useLoad(() => api<{ policies: Policy[] }>('GET', '/iam/policies'), 'policies');
  const names = new Map<string, string>([
    ...(users.data?.users ?? []).map((u) => [`user:${u.id}`, `user ${u.username}`] as const),
    ...(services.data?.serviceIds ?? []).map((s) => [`service:${s.id}`, `service ID ${s.name}`] as const),
    ...(groups.data?.groups ?? []).map((g) => [`group:${g.id}`, `group ${g.name}`] as const),
  ]);
  const label = (subject: string) => names.get(subject) ?? subject;

  return (
    <Page title="Access (IAM)">
      <p className="muted">Users, service IDs, access groups and the policies that give them roles. API keys have <a href="/iam/api-keys" onClick={follow}>their own page</a>.</p>

      <Section title="Users" loaded={users} rows={users.data?.users} remove={(u) => ({ path: `/iam/users/${u.id}`, what: `user ${u.username}` })}
        head={['User', 'Created']} cells={(u) => [<>{u.username}{u.owner ? <span className="badge pending"> owner</span> : null}</>, date(u.created)]}
        form={<>
          <CreateForm fields={[{ name: 'username', label: 'Username' }, { name: 'password', label: 'Password', type: 'password' }]} path="/iam/users" submit="Add user" done={users.reload} />
          <PasswordForm users={(users.data?.users ?? []).filter((u) => !(me.kind === 'user' && u.id === me.id))} />
        </>} />

      <Section title="Service IDs" loaded={services} rows={services.data?.serviceIds} remove={(s) => ({ path: `/iam/service-ids/${s.id}`, what: `service ID ${s.name}` })}
        head={['Service ID', 'Description', 'Created']} cells={(s) => [s.name, s.description || '—', date(s.created)]}
        form={<CreateForm fields={[{ name: 'name', label: 'Name' }, { name: 'description', label: 'Description', optional: true }]} path="/iam/service-ids" submit="Add service ID" done={services.reload} />} />

      <Section title="Access groups" loaded={groups} rows={groups.data?.groups} remove={(g) => ({ path: `/iam/groups/${g.id}`, what: `group ${g.name}` })}
        head={['Group', 'Members']} cells={(g) => [g.name, <Members group={g} label={label} done={groups.reload} />]}
        form={<>
          <CreateForm fields={[{ name: 'name', label: 'Group name' }]} path="/iam/groups" submit="Add group" done={groups.reload} />
          <MemberForm groups={groups.data?.groups ?? []} members={[...names].filter(([id]) => !id.startsWith('group:'))} done={groups.reload} />
        </>} />

      <Section title="Policies" loaded={policies} rows={policies.data?.policies} remove={(p) => ({ path: `/iam/policies/${p.id}`, what: `policy #${p.id}` })}
        head={['Subject', 'Role', 'On']} cells={(p) => [label(p.subject), p.role, p.scope === 'account' ? 'the account' : p.repository ? `${p.namespace}/${p.repository}` : `namespace ${p.namespace}`]}
        form={<PolicyForm subjects={[...names]} done={policies.reload} />} />
    </Page>
  );
}

function Section<T extends { id: number }>({ title, loaded, rows, head, cells, remove, form }: {
  title: string; loaded: Loaded<unknown>; rows: T[] | undefined; head: string[]; cells: (row: T) => ReactNode[];
  remove: (row: T) => { path: string; what: string }; form: ReactNode;
}) {
  const action = useAction();
  const drop = async (row: T) => {
    const { path, what } = remove(row);
    if (!confirm(`Remove ${what}?`)) return;
    if (await action.run(() => api('DELETE', path))) loaded.reload();
  };
  // aria-labelledby takes a list of ids separated by spaces: "Access groups" would name two.
  const headingId = `iam-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {form}
      <ErrorNote message={loaded.error ?? action.error} />
      {loaded.loading && !rows ? <Loading what={title.toLowerCase()} /> : null}
      {rows && rows.length === 0 ? <p className="muted">None yet.</p> : null}
      {rows && rows.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead><tr>{head.map((h) => <th key={h} scope="col">{h}</th>)}<th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-testid={`iam-${title}`}>
                  {cells(row).map((c, i) => <td key={i}>{c}</td>)}
                  <td><button type="button" className="button small danger" onClick={() => drop(row)} aria-label={`Remove ${remove(row).what}`}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

interface Field { name: string; label: string; type?: string; optional?: boolean }

function CreateForm({ fields, path, submit, done }: { fields: Field[]; path: string; submit: string; done: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const action = useAction();
  const send = async (event: FormEvent) => {
    event.preventDefault();
    const body = Object.fromEntries(fields.filter((f) => !f.optional || values[f.name]).map((f) => [f.name, values[f.name] ?? '']));
    if (await action.run(() => api('POST', path, body))) {
      setValues({});
      done();
    }
  };
  return (
    <form className="toolbar" onSubmit={send}>
      {fields.map((f) => (
        <label key={f.name}>{f.label}{' '}
          <input type={f.type ?? 'text'} required={!f.optional} autoComplete={f.type === 'password' ? 'new-password' : 'off'} value={values[f.name] ?? ''} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
        </label>
      ))}
      <button type="submit" className="button primary" disabled={action.busy}>{submit}</button>
      <ErrorNote message={action.error} />
    </form>
  );
}

function PolicyForm({ subjects, done }: { subjects: Array<[string, string]>; done: () => void }) {
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState('Reader');
  const [namespace, setNamespace] = useState('');
  const [repository, setRepository] = useState('');
  const action = useAction();
  const send = async (event: FormEvent) => {
    event.preventDefault();
    const body = { subject, role, namespace: namespace.trim() || null, repository: repository.trim() || null };
    if (await action.run(() => api('POST', '/iam/policies', body))) {
      setNamespace('');
      setRepository('');
      done();
    }
  };
  return (
    <form className="toolbar" onSubmit={send}>
      <label>Subject{' '}
        <select required value={subject} onChange={(e) => setSubject(e.target.value)}>
          <option value="">choose…</option>
          {subjects.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
        </select>
      </label>
      <label>Role{' '}
        <select value={role} onChange={(e) => setRole(e.target.value)}>
          <option>Reader</option><option>Writer</option><option>Manager</option>
        </select>
      </label>
      <label>Namespace{' '}<input value={namespace} onChange={(e) => setNamespace(e.target.value)} placeholder="all (the account)" /></label>
      <label>Repository{' '}<input value={repository} onChange={(e) => setRepository(e.target.value)} placeholder="all in the namespace" /></label>
      <button type="submit" className="button primary" disabled={action.busy}>Add policy</button>
      <ErrorNote message={action.error} />
    </form>
  );
}

/** A group's members, each with a button that takes it out of the group. */
function Members({ group, label, done }: { group: Group; label: (subject: string) => string; done: () => void }) {
  const action = useAction();
  if (group.members.length === 0) return <>—</>;
  const drop = async (member: string) => {
    if (!confirm(`Take ${label(member)} out of group ${group.name}?`)) return;
    if (await action.run(() => api('DELETE', `/iam/groups/${group.id}/members/${encodeURIComponent(member)}`))) done();
  };
  return (
    <>
      <ul className="chips">
        {group.members.map((m) => (
          <li key={m}>{label(m)}{' '}
            <button type="button" className="button small" onClick={() => drop(m)} aria-label={`Take ${label(m)} out of group ${group.name}`}>×</button>
          </li>
        ))}
      </ul>
      <ErrorNote message={action.error} />
    </>
  );
}

function MemberForm({ groups, members, done }: { groups: Group[]; members: Array<[string, string]>; done: () => void }) {
  const [group, setGroup] = useState('');
  const [member, setMember] = useState('');
  const action = useAction();
  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => api('PUT', `/iam/groups/${group}/members/${encodeURIComponent(member)}`))) {
      setMember('');
      done();
    }
  };
  if (groups.length === 0) return null;
  return (
    <form className="toolbar" onSubmit={send} aria-label="Add a member to a group">
      <label>Group{' '}
        <select required value={group} onChange={(e) => setGroup(e.target.value)}>
          <option value="">choose…</option>
          {groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
        </select>
      </label>
      <label>Member{' '}
        <select required value={member} onChange={(e) => setMember(e.target.value)}>
          <option value="">choose…</option>
          {members.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
        </select>
      </label>
      <button type="submit" className="button primary" disabled={action.busy}>Add member</button>
      <ErrorNote message={action.error} />
    </form>
  );
}

/** Another user's new password (a Manager's reset); your own is changed on the API keys page, with your current one. */
function PasswordForm({ users }: { users: User[] }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | undefined>();
  const action = useAction();
  const send = async (event: FormEvent) => {
    event.preventDefault();
    const name = users.find((u) => String(u.id) === user)?.username ?? 'the user';
    setDone(undefined);
    if (await action.run(() => api('PUT', `/iam/users/${user}/password`, { password }))) {
      setPassword('');
      setDone(`The password of ${name} is set; their sessions and registry tokens have ended.`);
    }
  };
  if (users.length === 0) return null;
  return (
    <form className="toolbar" onSubmit={send} aria-label="Set a user's password">
      <label>User{' '}
        <select required value={user} onChange={(e) => setUser(e.target.value)}>
          <option value="">choose…</option>
          {users.map((u) => <option key={u.id} value={u.id}>{u.username}</option>)}
        </select>
      </label>
      <label>New password{' '}<input type="password" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      <button type="submit" className="button" disabled={action.busy}>Set password</button>
      {done ? <p className="note success" role="status">{done}</p> : null}
      <ErrorNote message={action.error} />
    </form>
  );
}
