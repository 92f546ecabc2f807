// Tiny DOM helpers: every text goes through textContent, so job errors,
// source names and labels can never inject markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function duration(sec) {
  if (!sec || sec <= 0) return '';
  sec = Math.round(sec);
  const hh = Math.floor(sec / 3600), mm = Math.floor((sec % 3600) / 60), ss = sec % 60;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const ago = (Date.now() - d.getTime()) / 1000;
  if (ago < 60) return 'just now';
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

export function progressBar(p, state) {
  const pct = Math.max(0, Math.min(100, (p || 0) * 100));
  return h('div', { class: `bar bar-${state || ''}`, title: `${pct.toFixed(1)} %` },
    h('div', { class: 'bar-fill', style: { width: `${pct}%` } }),
    h('span', { class: 'bar-text' }, `${pct.toFixed(0)} %`));
}

export function badge(state) {
  return h('span', { class: `badge badge-${state}` }, state);
}

// getJSON reads an API path relative to the page.
export async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}
