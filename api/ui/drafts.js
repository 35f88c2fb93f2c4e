// Text a person is typing survives re-rendering: the Data page redraws itself on
// every watch event, which would otherwise wipe a half-written reason or
// comment and take the keyboard focus away. Fields are known by their id.
export class Drafts {
  /** @param {HTMLElement} root the part of the page that is redrawn */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, string>} */
    this.values = new Map();
  }

  /** Fills a new field with its draft and keeps the draft up to date; returns the field. */
  field(el) {
    el.value = this.values.get(el.id) ?? '';
    el.addEventListener('input', () => this.values.set(el.id, el.value));
    return el;
  }

  value(id) {
    return this.values.get(id) ?? '';
  }

  forget(id) {
    this.values.delete(id);
    const el = document.getElementById(id);
    if (el) el.value = '';
  }

  /** Runs `redraw`, then gives the focus (and caret) back to the field that had it. */
  around(redraw) {
    const active = document.activeElement;
    const id = active && this.root.contains(active) ? active.id : '';
    const caret =
      id && typeof active.selectionStart === 'number'
        ? [active.selectionStart, active.selectionEnd]
        : undefined;
    redraw();
    if (!id) return;
    const again = document.getElementById(id);
    if (!again || again === document.activeElement) return;
    again.focus();
    if (caret && typeof again.setSelectionRange === 'function') again.setSelectionRange(...caret);
  }
}
