// Small DOM helpers for the demo page: element lookup and creation, error messages that stay
// until dismissed (each its own, so a later error never hides an earlier one), and a number format.

/** The element with this id (throws when the page lacks it: a broken page should say so). */
export function $(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e;
}

/** el('td', { class: 'x', text: 'hi' }, child, ...): attributes, `text`, and children (nodes or strings). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** The message of anything thrown (an Error's message, else its text). */
export function messageOf(e) {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Show an error in `box` (a role="alert" container): the message as it is (the library's name
 * the file and what is wrong), with a button that dismisses it. Nothing else on the page changes.
 */
export function showError(box, e, { prefix = '' } = {}) {
  const text = `${prefix}${messageOf(e)}`;
  const item = el('div', { class: 'error' }, el('p', { text }), el('button', { type: 'button', 'aria-label': 'Dismiss this message', text: 'Dismiss', onclick: () => item.remove() }));
  box.append(item);
  return item;
}

export function clearErrors(box) {
  box.replaceChildren();
}

const nf = new Intl.NumberFormat('en');
/** 10000 → "10,000". */
export const num = (n) => nf.format(n);
/** A percentage with one decimal: 88.123 → "88.1 %". */
export const pct = (v) => `${v.toFixed(1)} %`;

/** A promise that rejects with `message` after `ms` unless `p` settles first. */
export function within(p, ms, message) {
  let t;
  return Promise.race([p, new Promise((_, fail) => { t = setTimeout(() => fail(new Error(message)), ms); })]).finally(() => clearTimeout(t));
}

/** Let the browser paint (and handle clicks) before more work. */
export const yieldToPage = () => new Promise((r) => setTimeout(r, 0));
