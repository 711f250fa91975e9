import { useEffect, useRef, useState } from 'react';
import { api, loadSession, saveSession, signOut as endSession, whenSessionExpires, type Session } from './api';
import { ErrorNote, Loading, PermissionsContext, messageOf, permissionsOf, type Permissions, type RolesView } from './common';
import { follow, navigate, useLocation } from './router';
import { applyTheme, initialTheme, type Theme } from './theme';
import type { Whoami } from './types';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { Namespaces } from './pages/Namespaces';
import { Images } from './pages/Images';
import { ImagePage } from './pages/ImagePage';
import { Trash } from './pages/Trash';
import { Quota } from './pages/Quota';
import { ApiKeys } from './pages/ApiKeys';
import { Iam } from './pages/Iam';
import { TrustKeys } from './pages/TrustKeys';
import { ImagePolicies } from './pages/ImagePolicies';

const NAV: Array<{ href: string; label: string; manager?: boolean }> = [
  { href: '/', label: 'Overview' },
  { href: '/images', label: 'Images' },
  { href: '/namespaces', label: 'Namespaces' },
  { href: '/trash', label: 'Trash' },
  { href: '/quota', label: 'Quota & retention' },
  { href: '/trust/keys', label: 'Trusted keys' },
  { href: '/policies', label: 'Image policies' },
  { href: '/iam/api-keys', label: 'API keys' },
  { href: '/iam', label: 'Access (IAM)', manager: true },
];

export function App() {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  const [notice, setNotice] = useState<string | undefined>();
  const [theme, setTheme] = useState<Theme>(() => initialTheme());
  useEffect(() => applyTheme(theme, false), [theme]);

  useEffect(() => {
    whenSessionExpires((message) => {
      saveSession(undefined);
      setSession(undefined);
      setNotice(message);
    });
  }, []);

  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next, true);
    setTheme(next);
  };

  if (!session) {
    return <SignIn notice={notice} onSignedIn={(s) => { saveSession(s); setNotice(undefined); setSession(s); }} />;
  }
  // "Signed out" is said once the server has revoked the refresh token (or could not be reached):
  // said before, a copy of the token would still renew in that moment.
  const signOut = () => {
    void endSession().then(() => {
      setSession(undefined);
      setNotice('You are signed out.');
      navigate('/');
    });
  };
  return <SignedIn key={session.token} theme={theme} toggleTheme={toggleTheme} signOut={signOut} />;
}

function SignedIn({ theme, toggleTheme, signOut }: { theme: Theme; toggleTheme: () => void; signOut: () => void }) {
  const [perms, setPerms] = useState<Permissions | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [menuOpen, setMenuOpen] = useState(false);
  const { path, query } = useLocation();
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    Promise.all([api<Whoami>('GET', '/whoami'), api<RolesView>('GET', '/permissions')])
      .then(([me, roles]) => setPerms(permissionsOf(me, roles)), (err: unknown) => setError(messageOf(err)));
  }, []);

  // After a client navigation, focus goes to the new page's heading, as a page load would put it.
  useEffect(() => {
    setMenuOpen(false);
    const heading = mainRef.current?.querySelector<HTMLElement>('h1');
    heading?.focus({ preventScroll: true });
  }, [path]);

  return (
    <div className="shell">
      <a className="skip" href="#main">Skip to content</a>
      <header className="topbar">
        <button type="button" className="button icon menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          <span aria-hidden="true">☰</span><span className="visually-hidden">Menu</span>
        </button>
        <a className="brand" href="/" onClick={follow}><span aria-hidden="true">⚓</span> Wharf</a>
        <div className="topbar-end">
          {perms ? <span className="who" title={`account ${perms.me.account.name}`}>{perms.me.name} · {perms.me.account.name}{perms.me.accountRole ? ` · ${perms.me.accountRole}` : ''}</span> : null}
          <button type="button" className="button icon" onClick={toggleTheme} aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}>
            <span aria-hidden="true">{theme === 'dark' ? '☀' : '☾'}</span>
          </button>
          <button type="button" className="button" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <nav id="nav" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Console">
        <ul>
          {NAV.filter((n) => !n.manager || perms?.canManage).map((n) => (
            <li key={n.href}>
              <a href={n.href} onClick={follow} aria-current={isCurrent(path, n.href) ? 'page' : undefined}>{n.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={mainRef}>
        <ErrorNote message={error} />
        {perms ? (
          <PermissionsContext.Provider value={perms}>
            <Route path={path} query={query} />
          </PermissionsContext.Provider>
        ) : error ? null : <Loading what="your account" />}
      </main>
    </div>
  );
}

function isCurrent(path: string, href: string): boolean {
  if (href === '/') return path === '/';
  if (href === '/iam') return path === '/iam';
  return path === href || path.startsWith(`${href}/`);
}

function Route({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/') return <Overview />;
  if (path === '/images') return <Images />;
  if (path.startsWith('/images/')) return <ImagePage reference={decodeURIComponent(path.slice('/images/'.length))} tab={query.get('tab') ?? 'overview'} />;
  if (path === '/namespaces') return <Namespaces />;
  if (path === '/trash') return <Trash />;
  if (path === '/quota') return <Quota />;
  if (path === '/iam/api-keys') return <ApiKeys />;
  if (path === '/iam') return <Iam />;
  if (path === '/trust/keys') return <TrustKeys />;
  if (path === '/policies') return <ImagePolicies />;
  return (
    <section className="page">
      <h1 tabIndex={-1}>Not found</h1>
      <p>The console has no page at {path}. <a href="/" onClick={follow}>Go to the overview</a>.</p>
    </section>
  );
}
