import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo } from '../../src/console/api-types.js';
import { describeError, getJson, postJson, whenLoggedOut } from './api.js';
import { LoginPage } from './pages/login.js';
import { ModelsPage } from './pages/models.js';
import { JobsPage } from './pages/jobs.js';
import { SqlPage } from './pages/sql.js';
import { RunsPage } from './pages/runs.js';

const PAGES = [
  { path: 'models', title: 'Models' },
  { path: 'runs', title: 'Runs' },
  { path: 'jobs', title: 'Jobs' },
  { path: 'sql', title: 'SQL' },
] as const;

/** The page and its argument from the location's hash: #/models/embedder → ['models', 'embedder']. */
function route(): [string, string | null] {
  const [, page = 'models', ...rest] = location.hash.split('/');
  return [page, rest.length ? decodeURIComponent(rest.join('/')) : null];
}

function useRoute(): [string, string | null] {
  const [r, setR] = useState(route);
  useEffect(() => {
    const on = (): void => setR(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, arg] = useRoute();
  useEffect(() => {
    whenLoggedOut(() => setSession((s) => (s ? { ...s, authenticated: false, user: null } : s)));
    getJson<SessionInfo>('/api/session').then(setSession, (e: unknown) => setError(describeError(e)));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!session) return <p class="muted">Loading…</p>;
  if (!session.authenticated) return <LoginPage version={session.version} onLogin={setSession} />;
  const logout = async (): Promise<void> => {
    await postJson('/api/logout');
    setSession({ ...session, authenticated: false, user: null });
  };
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">aiduck <small>{session.version}</small></span>
        <nav>
          {PAGES.map((p) => <a href={`#/${p.path}`} class={page === p.path ? 'active' : ''} key={p.path}>{p.title}</a>)}
        </nav>
        <span class="who">
          {session.user}
          {session.passwordRequired && <button class="link" onClick={() => void logout()}>Log out</button>}
        </span>
      </header>
      <main>
        {page === 'models' && <ModelsPage selected={arg} />}
        {page === 'runs' && <RunsPage experiment={arg} />}
        {page === 'jobs' && <JobsPage />}
        {page === 'sql' && <SqlPage />}
        {!PAGES.some((p) => p.path === page) && <p class="error">No page “{page}”.</p>}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
