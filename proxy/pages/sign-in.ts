// Sign-in with an API token on berth's own host, until the sign-in issue brings
// OpenID Connect. Says so on the page.
import { escapeHtml, renderPage } from './layout.ts';

export function renderSignIn(next: string, error?: string): string {
  return renderPage({
    title: 'Sign in',
    body: `<h1>Sign in to berth</h1>
${error ? `<p class="failed" role="alert">${escapeHtml(error)}</p>` : ''}
<p class="dev">Interim sign-in: paste an API token (<code>berth token create</code>). Single sign-on comes later.</p>
<form method="post" action="/_berth/sign-in">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">API token</label><input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button></form>`,
  });
}

export function renderSignOut(user: string): string {
  return renderPage({
    title: 'Sign out',
    body: `<h1>Signed in as ${escapeHtml(user)}</h1>
<form method="post" action="/_berth/sign-out"><button type="submit">Sign out</button></form>`,
  });
}
