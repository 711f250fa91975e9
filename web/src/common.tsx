import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from './api';
import type { Role, Whoami } from './types';

/** Who is signed in and what they may do (GET /permissions): the console offers only what the API would allow. */
export interface Permissions {
  me: Whoami;
  /** Namespaces, quotas, exemptions, users and keys of others: the account's Managers. */
  canManage: boolean;
  /** Push, tag, delete and restore images of the namespace (Writer there, or on the account). */
  canWriteIn(namespace: string): boolean;
  /** Retention of the namespace (Manager there, or on the account). */
  canManageIn(namespace: string): boolean;
}

export interface RolesView { accountRole: Role | null; namespaces: Array<{ name: string; role: Role | null }> }

const RANK: Record<Role, number> = { reader: 1, writer: 2, manager: 3 };
const rankOf = (role: Role | null | undefined) => (role ? RANK[role] : 0);

export function permissionsOf(me: Whoami, roles: RolesView): Permissions {
  const account = rankOf(roles.accountRole);
  const inNamespace = new Map(roles.namespaces.map((n) => [n.name, Math.max(account, rankOf(n.role))]));
  const rankIn = (namespace: string) => inNamespace.get(namespace) ?? account;
  return {
    me,
    canManage: account >= 3,
    canWriteIn: (namespace) => rankIn(namespace) >= 2,
    canManageIn: (namespace) => rankIn(namespace) >= 3,
  };
}

export const PermissionsContext = createContext<Permissions | undefined>(undefined);

export function usePermissions(): Permissions {
  const p = useContext(PermissionsContext);
  if (!p) throw new Error('usePermissions outside the signed-in console');
  return p;
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads from the API when `key` changes; errors become the API's message, shown, not swallowed. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => { if (live) setState({ data, loading: false }); },
      (err: unknown) => { if (live) setState({ error: messageOf(err), loading: false }); },
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export function ErrorNote({ message }: { message: string | undefined }) {
  if (!message) return null;
  return <p className="note error" role="alert">{message}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p className="loading" role="status" aria-live="polite"><span className="spinner" aria-hidden="true" /> Loading {what}…</p>;
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => { document.title = `${title} · Wharf`; }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title" tabIndex={-1}>{title}</h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A button that copies text (a pull command, a new API key) and says so. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // No asynchronous clipboard outside secure contexts (plain HTTP to another host): the old way.
      ok = copyThroughSelection(text);
    }
    setState(ok ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 2500);
  };
  return (
    <>
      <button type="button" className="button small" onClick={copy} aria-label={`${state === 'copied' ? 'Copied' : 'Copy'} ${what}`}>{state === 'copied' ? 'Copied' : 'Copy'}</button>
      <span className="visually-hidden" role="status">{state === 'copied' ? 'Copied to the clipboard' : state === 'failed' ? 'Could not copy: select the text and copy it' : ''}</span>
    </>
  );
}

function copyThroughSelection(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export function Badge({ tone, children }: { tone: string; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** Runs a change against the API, keeping its error for the person to read. */
export function useAction(): { busy: boolean; error: string | undefined; run: (action: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}
