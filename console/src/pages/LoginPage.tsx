import { useState } from 'react';
import type { FormEvent } from 'react';
import { Alert, Button, Card, Input } from 'tdesign-react';
import { useNavigate } from 'react-router-dom';
import { useSession } from '../session/SessionContext';
import { loginErrorText } from '../session/errors';
import { takeSessionEndedNotice } from '../session/ended';

export default function LoginPage() {
  const { login } = useSession();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [ended] = useState(() => takeSessionEndedNotice());
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    // Checked here rather than by a disabled button: a greyed-out button says nothing of why (and fails contrast).
    if (!username.trim() || !password) {
      setError('请填写用户名和密码。');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      navigate('/', { replace: true });
    } catch (failure) {
      setError(loginErrorText(failure));
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <Card className="login-card" bordered>
        <h1>临江市政务服务 · 工作台</h1>
        <p className="login-sub">工作人员登录</p>
        <form onSubmit={submit} aria-label="工作人员登录">
          {/* TDesign's Input takes no id: the label wraps it, which names the <input> all the same. */}
          <label className="field">
            <span>用户名</span>
            <Input name="username" value={username} onChange={(value) => setUsername(String(value))} autocomplete="username" size="large" />
          </label>
          <label className="field">
            <span>密码</span>
            <Input name="password" type="password" value={password} onChange={(value) => setPassword(String(value))} autocomplete="current-password" size="large" />
          </label>
          <div role="alert" aria-live="assertive">
            {ended && !error && <Alert theme="warning" message={ended} className="login-error" />}
            {error && <Alert theme="error" message={error} className="login-error" />}
          </div>
          <Button type="submit" theme="primary" size="large" block loading={busy}>
            登录
          </Button>
        </form>
      </Card>
    </main>
  );
}
