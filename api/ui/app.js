// berth's web UI entry point: who is signed in, then the catalogue, "Your tools"
// and (for admins) every instance, each kept live by watches over SSE.

import { startAdmin } from './admin.js';
import { ApiClient } from './api.js';
import { startMine } from './mine.js';

const notice = document.getElementById('notice');

export function say(text) {
  notice.textContent = text;
}

async function main() {
  const res = await fetch('/auth/session', { credentials: 'same-origin' });
  const session = await res.json();
  if (!session.signedIn) {
    location.assign('/auth/sign-in?next=%2F');
    return;
  }
  const user = session.user;
  document.getElementById('who').textContent =
    `Signed in as ${user.displayName ? `${user.displayName} (${user.name})` : user.name}${user.admin ? ' · admin' : ''}`;
  const client = new ApiClient(session);
  document.getElementById('sign-out').addEventListener('click', async () => {
    await fetch('/auth/sign-out', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { [session.csrfHeader]: session.csrfToken },
    });
    location.assign('/auth/signed-out');
  });
  startMine(client, session, say);
  if (user.admin) {
    document.getElementById('admin').hidden = false;
    startAdmin(client, say);
  }
}

main().catch((err) => say(`berth could not load: ${err.message}`));
