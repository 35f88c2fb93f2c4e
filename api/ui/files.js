// The Files page (#files/FOLDER): your home folder in the installation's bucket.
// Breadcrumbs and a table (name, size, modified) from the API's listing; download
// follows a presigned URL that lives only for the click; delete (confirmed), new
// folder and rename go through the API; uploads (drag and drop or the file
// picker) go straight to S3 in file-upload.js, each with a progress bar and a
// Cancel button. When the installation has no bucket the page says so instead.
import { BASE } from './api.js';
import { askName, confirmAction, nameProblem } from './file-dialogs.js';
import { FileUpload, forgetOldUploads, UploadCancelled } from './file-upload.js';
import { h } from './format.js';

const FILES = `${BASE}/files`;

/** `1.5 MB`, in the decimal units people read sizes in. */
export function formatBytes(n) {
  if (n < 1000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** `#files/a%20b/c/` for the folder `a b/c/`. */
export function folderHash(folder) {
  if (!folder) return '#files';
  return `#files/${folder.split('/').map(encodeURIComponent).join('/')}`;
}

export function folderFromHash(hash) {
  const rest = hash.replace(/^#files\/?/, '');
  if (!rest) return '';
  try {
    const folder = rest.split('/').map(decodeURIComponent).join('/');
    return folder.endsWith('/') ? folder : `${folder}/`;
  } catch {
    return '';
  }
}

const bare = (name) => name.replace(/\/$/, '');

export function startFiles(client, session, say) {
  const root = document.getElementById('page-files');
  const off = document.getElementById('files-off');
  const body = document.getElementById('files-ui');
  const crumbs = document.getElementById('files-crumbs');
  const list = document.getElementById('files-list');
  const more = document.getElementById('files-more');
  const uploads = document.getElementById('files-uploads');
  const drop = document.getElementById('files-drop');
  const pick = document.getElementById('files-pick');
  let folder = '';
  let items = [];
  let cont;
  let loading = 0;

  async function load(append = false) {
    const ticket = ++loading;
    const q = new URLSearchParams({ path: folder, limit: '500' });
    if (append && cont) q.set('continue', cont);
    try {
      const page = await client.get(`${FILES}?${q}`);
      if (ticket !== loading) return;
      off.hidden = true;
      body.hidden = false;
      items = append ? [...items, ...page.items] : page.items;
      cont = page.continue;
      render();
    } catch (err) {
      if (ticket !== loading) return;
      if (
        err.status === 503 &&
        (err.reason === 'FilesNotConfigured' || /configured/i.test(err.message))
      ) {
        body.hidden = true;
        off.hidden = false;
        return;
      }
      list.replaceChildren(
        h('p', { class: 'reason' }, `Could not list this folder: ${err.message}`),
      );
    }
  }

  function renderCrumbs() {
    const parts = folder ? bare(folder).split('/') : [];
    const links = [{ label: 'Your files', folder: '' }];
    parts.forEach((p, i) => {
      links.push({ label: p, folder: `${parts.slice(0, i + 1).join('/')}/` });
    });
    crumbs.replaceChildren(
      h(
        'ol',
        {},
        links.map((l, i) =>
          h(
            'li',
            {},
            i === links.length - 1
              ? h('span', { 'aria-current': 'page' }, l.label)
              : h('a', { href: folderHash(l.folder) }, l.label),
          ),
        ),
      ),
    );
  }

  function render() {
    renderCrumbs();
    more.hidden = !cont;
    if (items.length === 0) {
      list.replaceChildren(
        h(
          'p',
          { class: 'muted' },
          folder
            ? 'This folder is empty.'
            : 'You have no files yet. Drop some here to upload them.',
        ),
      );
      return;
    }
    list.replaceChildren(
      h(
        'table',
        { class: 'files', 'aria-labelledby': 'files-h' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Size', 'Modified', 'Actions'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h('tbody', {}, items.map(row)),
      ),
    );
  }

  function row(item) {
    const isFolder = item.type === 'folder';
    const name = bare(item.name);
    const path = isFolder && !item.path.endsWith('/') ? `${item.path}/` : item.path;
    const when = item.lastModified ? new Date(item.lastModified) : undefined;
    return h(
      'tr',
      { 'data-path': path, 'data-type': item.type },
      h(
        'th',
        { scope: 'row' },
        isFolder ? h('a', { href: folderHash(path), class: 'folder' }, `${name}/`) : name,
      ),
      h('td', {}, isFolder ? '' : formatBytes(item.size ?? 0)),
      h('td', {}, when ? h('time', { datetime: item.lastModified }, when.toLocaleString()) : ''),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row-actions' },
          isFolder
            ? null
            : h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Download ${name}`,
                  onclick: () => download(path, name),
                },
                'Download',
              ),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'aria-label': `Rename ${name}`,
              onclick: () => rename(path, name, isFolder),
            },
            'Rename',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'aria-label': `Delete ${name}`,
              onclick: () => remove(path, name, isFolder),
            },
            'Delete',
          ),
        ),
      ),
    );
  }

  async function download(path, name) {
    try {
      const { url } = await client.request('POST', `${FILES}/download`, { path });
      // The signed URL is in the DOM only for the click: S3 answers with an attachment.
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      say(`Could not download ${name}: ${err.message}`);
    }
  }

  async function rename(path, name, isFolder) {
    const parent = folder;
    const to = await askName({
      title: `Rename ${name}`,
      label: 'New name',
      value: name,
      action: 'Rename',
      check: nameProblem,
    });
    if (to === null || to === name) return;
    try {
      await client.request('POST', `${FILES}/move`, {
        from: path,
        to: `${parent}${to}${isFolder ? '/' : ''}`,
      });
      say(`Renamed ${name} to ${to}.`);
    } catch (err) {
      say(`Could not rename ${name}: ${err.message}`);
    }
    load();
  }

  async function remove(path, name, isFolder) {
    const yes = await confirmAction({
      title: `Delete ${name}?`,
      text: isFolder
        ? `This deletes the folder ${name} and everything in it, here and in your tools. It cannot be undone.`
        : `This deletes ${name}, here and in your tools. It cannot be undone.`,
      action: 'Delete',
    });
    if (!yes) return;
    try {
      const q = new URLSearchParams({ path });
      if (isFolder) q.set('recursive', 'true');
      await client.request('DELETE', `${FILES}?${q}`);
      say(`Deleted ${name}.`);
    } catch (err) {
      say(`Could not delete ${name}: ${err.message}`);
    }
    load();
  }

  async function newFolder() {
    const name = await askName({
      title: 'New folder',
      label: 'Folder name',
      action: 'Create',
      check: nameProblem,
    });
    if (name === null) return;
    try {
      await client.request('POST', `${FILES}/folders`, { path: `${folder}${name}/` });
      say(`Created the folder ${name}.`);
    } catch (err) {
      say(`Could not create the folder ${name}: ${err.message}`);
    }
    load();
  }

  function upload(file) {
    const target = folder;
    const bar = h('progress', { max: '100', value: '0', 'aria-label': `Uploading ${file.name}` });
    const status = h('span', { class: 'muted' }, 'Starting…');
    const cancel = h(
      'button',
      { type: 'button', class: 'secondary', 'aria-label': `Cancel uploading ${file.name}` },
      'Cancel',
    );
    const li = h(
      'li',
      { 'data-upload': `${target}${file.name}` },
      h('span', { class: 'upload-name' }, file.name),
      bar,
      status,
      cancel,
    );
    uploads.append(li);
    let settled = false;
    const job = new FileUpload(client, session.user.name, file, `${target}${file.name}`, {
      onProgress(sent, total) {
        // Parts already in flight may land after a failure; its message stays.
        if (settled) return;
        const pct = total ? Math.floor((sent / total) * 100) : 100;
        bar.value = pct;
        status.textContent = `${formatBytes(sent)} of ${formatBytes(total)} (${pct}%)`;
      },
      confirmReplace: () =>
        confirmAction({
          title: `Replace ${file.name}?`,
          text: `${file.name} is already in this folder. Uploading replaces it.`,
          action: 'Replace',
        }),
    });
    cancel.addEventListener('click', () => job.cancel());
    job
      .start()
      .then(() => {
        settled = true;
        bar.value = 100;
        status.textContent = job.resumed
          ? `Uploaded (resumed: ${job.partsSent} parts sent)`
          : 'Uploaded';
        li.dataset.state = 'done';
        if (folder === target) load();
      })
      .catch((err) => {
        settled = true;
        li.dataset.state = err instanceof UploadCancelled ? 'cancelled' : 'failed';
        status.textContent =
          err instanceof UploadCancelled
            ? 'Cancelled'
            : `Failed: ${err.message}. Drop the file again to continue where it stopped.`;
        status.className = err instanceof UploadCancelled ? 'muted' : 'reason';
      })
      .finally(() => cancel.remove());
  }

  forgetOldUploads();
  document.getElementById('files-new-folder').addEventListener('click', newFolder);
  document.getElementById('files-upload').addEventListener('click', () => pick.click());
  pick.addEventListener('change', () => {
    for (const f of pick.files) upload(f);
    pick.value = '';
  });
  more.addEventListener('click', () => load(true));
  root.addEventListener('dragover', (e) => {
    if (body.hidden || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    drop.classList.add('over');
  });
  root.addEventListener('dragleave', (e) => {
    if (!root.contains(e.relatedTarget)) drop.classList.remove('over');
  });
  root.addEventListener('drop', (e) => {
    if (body.hidden) return;
    e.preventDefault();
    drop.classList.remove('over');
    const files = [...(e.dataTransfer?.files ?? [])];
    // A dropped folder arrives as an entry with no type and no bytes to read.
    for (const f of files) upload(f);
  });

  return {
    show(hash) {
      folder = folderFromHash(hash);
      cont = undefined;
      renderCrumbs();
      load();
    },
  };
}
