import { useState } from 'preact/hooks';
import type { SessionInfo } from '../../../src/console/api-types.js';
import { describeError, postJson } from '../api.js';

/** Logs in with the server's user and password, the ones psql would use. */
export function LoginPage({ version, onLogin }: { version: string; onLogin: (s: SessionInfo) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await postJson<SessionInfo>('/api/login', { user, password }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login" onSubmit={(e) => void submit(e)}>
      <h1>aiduck <small>{version}</small></h1>
      <p class="muted">Log in with the user and password of the SQL port.</p>
      <label>User <input name="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" value={password}
        onInput={(e) => setPassword(e.currentTarget.value)} required /></label>
      <button type="submit" class="primary" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
