// berth's web UI entry point: who is signed in, then the Tools page (the
// catalogue, "Your tools" and, for admins, every instance) or the Data page
// (#data, data.js), each kept live by watches over SSE. The pages are one
// document switched by the URL's fragment, so no route is needed on the server.

import { startAdmin } from './admin.js';
import { ApiClient, showWatches } from './api.js';
import { startData } from './data.js';
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
  let dataStarted = false;
  function showPage() {
    // Other fragments (the skip link's #main) leave the page as it is.
    if (!['', '#tools', '#data'].includes(location.hash)) return;
    const data = location.hash === '#data';
    document.getElementById('page-tools').hidden = data;
    document.getElementById('page-data').hidden = !data;
    for (const [id, current] of [
      ['nav-tools', !data],
      ['nav-data', data],
    ]) {
      const link = document.getElementById(id);
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = data ? 'Data · berth' : 'berth';
    showWatches(data ? 'data' : 'tools');
    if (data && !dataStarted) {
      dataStarted = true;
      startData(client, session, say);
    }
  }
  window.addEventListener('hashchange', showPage);
  showPage();
}

main().catch((err) => say(`berth could not load: ${err.message}`));
