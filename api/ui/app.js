// berth's web UI entry point: who is signed in, then the Tools page (the
// catalogue, "Your tools" and, for admins, every instance) or the Data page
// (#data, data.js), each kept live by watches over SSE, or the Files page
// (#files/FOLDER, files.js), or for admins the Usage page (#usage, usage.js),
// under a banner of the user's tools that are about to be stopped
// (stop-warnings.js). The pages are one
// document switched by the URL's fragment, so no route is needed on the server.

import { startAdmin } from './admin.js';
import { ApiClient, showWatches } from './api.js';
import { startData } from './data.js';
import { startFiles } from './files.js';
import { startMine } from './mine.js';
import { startStopWarnings } from './stop-warnings.js';
import { startUsage } from './usage.js';

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
  // The banner of coming stops is on every page; "Your tools" shares its instances.
  const warnings = startStopWarnings(client, session, say);
  startMine(client, session, say, warnings);
  if (user.admin) {
    document.getElementById('admin').hidden = false;
    startAdmin(client, say);
  }
  let dataStarted = false;
  let files;
  let usage;
  // Only admins have the Usage page; for anyone else #usage is no page at all.
  document.getElementById('nav-usage').hidden = !user.admin;
  const pages = user.admin ? ['tools', 'data', 'files', 'usage'] : ['tools', 'data', 'files'];
  function showPage() {
    // Other fragments (the skip link's #main) leave the page as it is.
    const hash = location.hash;
    const page = ['', '#tools'].includes(hash)
      ? 'tools'
      : hash === '#data'
        ? 'data'
        : /^#files(\/|$)/.test(hash)
          ? 'files'
          : hash === '#usage' && user.admin
            ? 'usage'
            : undefined;
    if (!page) return;
    for (const name of pages) {
      document.getElementById(`page-${name}`).hidden = page !== name;
      const link = document.getElementById(`nav-${name}`);
      if (page === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = {
      tools: 'berth',
      data: 'Data · berth',
      files: 'Files · berth',
      usage: 'Usage · berth',
    }[page];
    showWatches(page);
    if (page === 'data' && !dataStarted) {
      dataStarted = true;
      startData(client, session, say);
    }
    if (page === 'files') {
      files ??= startFiles(client, session, say);
      files.show(hash);
    }
    if (page === 'usage') {
      usage ??= startUsage(client, say);
      usage.show();
    }
  }
  window.addEventListener('hashchange', showPage);
  showPage();
}

main().catch((err) => say(`berth could not load: ${err.message}`));
