// Modal questions for the Files page (a name to give, a yes/no), built on
// <dialog>: it traps focus, closes on Escape and returns focus to the button that
// opened it, so they work from the keyboard and with a screen reader.
import { h } from './format.js';

function open(dialog, onClose) {
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(onClose(dialog.returnValue));
      dialog.remove();
    });
    dialog.showModal();
  });
}

/** Asks for a name; resolves with it (trimmed), or null when cancelled. */
export function askName({ title, label, value = '', action, check }) {
  const input = h('input', {
    type: 'text',
    name: 'name',
    value,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'files-dialog-error',
  });
  const error = h('p', { id: 'files-dialog-error', class: 'reason', role: 'alert' });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, title),
    h('label', {}, label, input),
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', value: 'ok' }, action),
      h(
        'button',
        { type: 'submit', value: 'cancel', class: 'secondary', formnovalidate: true },
        'Cancel',
      ),
    ),
  );
  const dialog = h('dialog', { class: 'files-dialog', 'aria-label': title }, form);
  form.addEventListener('submit', (e) => {
    if (e.submitter?.value !== 'ok') return;
    const problem = check?.(input.value.trim());
    if (problem) {
      e.preventDefault();
      error.textContent = problem;
      input.focus();
    }
  });
  queueMicrotask(() => {
    input.focus();
    // Select the name without its extension, as file managers do on rename.
    const dot = value.lastIndexOf('.');
    input.setSelectionRange(0, dot > 0 ? dot : value.length);
  });
  return open(dialog, (rv) => (rv === 'ok' ? input.value.trim() : null));
}

/** Asks yes or no; resolves true only for the confirming button. */
export function confirmAction({ title, text, action }) {
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', {}, title),
    h('p', {}, text),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', value: 'ok', class: 'danger' }, action),
      h(
        'button',
        { type: 'submit', value: 'cancel', class: 'secondary', autofocus: true },
        'Cancel',
      ),
    ),
  );
  const dialog = h('dialog', { class: 'files-dialog', 'aria-label': title }, form);
  return open(dialog, (rv) => rv === 'ok');
}

/** A file or folder name as the Files page accepts it (the API checks again). */
export function nameProblem(name) {
  if (!name) return 'Give a name.';
  if (name.includes('/')) return 'A name cannot contain "/".';
  if (name === '.' || name === '..') return 'A name cannot be "." or "..".';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'A name cannot contain control characters.';
  return undefined;
}
