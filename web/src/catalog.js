// Catalog views: #/catalog lists asset records (GET api/assets) with a
// search box, a tag filter and a state filter, page by page; recordCard
// shows one record's metadata on the asset page (GET api/assets/ID).
import { h, duration, when, badge, getJSON } from './dom.js';

// bytes formats a size for people.
export function bytes(n) {
  if (!n) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function tagChip(t) {
  return h('a', { class: 'chip', href: `#/catalog?tag=${encodeURIComponent(t)}` }, t);
}

// catalogView renders the listing; query is the fragment's ?search=&tag=&state=.
export function catalogView(root, query) {
  const params = new URLSearchParams(query || '');
  const search = h('input', { type: 'search', id: 'catalog-search', placeholder: 'Search title and description (word* for a prefix)', value: params.get('search') || '' });
  const tag = h('input', { type: 'text', id: 'catalog-tag', placeholder: 'tag', value: params.get('tag') || '' });
  const state = h('select', { id: 'catalog-state' },
    ['', 'processing', 'ready', 'failed', 'cancelled'].map(s => h('option', { value: s, selected: s === (params.get('state') || '') }, s || 'any state')));
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'Next page');
  const note = h('p', { class: 'muted', hidden: true }, 'No asset matches.');
  const error = h('p', { class: 'error', hidden: true });
  const form = h('form', { class: 'filters', id: 'catalog-filters' }, search, tag, state, h('button', { type: 'submit', class: 'button' }, 'Search'));
  root.replaceChildren(h('h1', {}, 'Catalog'), form,
    h('table', { class: 'grid', id: 'catalog' },
      h('thead', {}, h('tr', {}, ['Title', 'Tags', 'State', 'Duration', 'Size', 'Created'].map(t => h('th', {}, t)))),
      body),
    note, error, more);

  let token = '';
  let seq = 0;
  const load = async (append) => {
    const q = new URLSearchParams({ limit: '50' });
    if (search.value.trim()) q.set('search', search.value.trim());
    for (const t of tag.value.split(/[\s,]+/).filter(Boolean)) q.append('tag', t);
    if (state.value) q.set('state', state.value);
    if (append && token) q.set('page_token', token);
    const mine = ++seq;
    document.body.dataset.catalog = 'loading';
    try {
      const r = await getJSON(`api/assets?${q}`);
      if (mine !== seq) return; // a newer search answered first
      error.hidden = true;
      const rows = r.assets.map(a => h('tr', { 'data-asset': a.id, 'data-state': a.state },
        h('td', {}, h('a', { href: `#/assets/${encodeURIComponent(a.id)}` }, a.title || a.id)),
        h('td', {}, a.tags.map(tagChip)),
        h('td', {}, badge(a.state)),
        h('td', {}, duration(a.duration_seconds)),
        h('td', {}, bytes(a.size_bytes)),
        h('td', { title: a.created_at }, when(a.created_at))));
      if (append) body.append(...rows); else body.replaceChildren(...rows);
      token = r.next_page_token || '';
      more.hidden = !token;
      note.hidden = body.children.length > 0;
    } catch (e) {
      if (mine !== seq) return;
      error.textContent = e.message;
      error.hidden = false;
    }
    document.body.dataset.catalog = 'ready';
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (search.value.trim()) q.set('search', search.value.trim());
    if (tag.value.trim()) q.set('tag', tag.value.trim());
    if (state.value) q.set('state', state.value);
    const next = `#/catalog${q.toString() ? `?${q}` : ''}`;
    if (location.hash !== next) history.replaceState(null, '', next);
    token = '';
    load(false);
  });
  state.addEventListener('change', () => form.requestSubmit());
  more.addEventListener('click', () => load(true));
  load(false);
}

// recordCard shows a catalog record's metadata: title, description, tags,
// fields, source facts, renditions and destinations with their state.
export function recordCard(a) {
  const s = a.source;
  const rows = (k, v) => (v ? [h('dt', {}, k), h('dd', {}, v)] : null);
  return h('section', { class: 'record', id: 'record', 'data-asset': a.id },
    h('h2', { id: 'record-title' }, a.title || a.id),
    a.description ? h('p', { class: 'description' }, a.description) : '',
    h('div', { class: 'tags', id: 'record-tags' }, a.tags.map(tagChip)),
    h('dl', { class: 'facts' },
      rows('State', badge(a.state)),
      a.meta.map(m => rows(m.key, m.value)),
      rows('Duration', a.duration_seconds ? `${a.duration_seconds.toFixed(1)} s` : ''),
      rows('Size', bytes(a.size_bytes)),
      rows('Preset', a.preset),
      rows('Ladder', a.ladder),
      s ? rows('Source', [s.container, s.video_codec && `${s.video_codec} ${s.width}×${s.height}`,
        s.frame_rate && `${s.frame_rate.toFixed(2)} fps`, s.audio_codec, s.audio_tracks && `${s.audio_tracks} audio`,
        bytes(s.size_bytes)].filter(Boolean).join(', ')) : null,
      rows('Created', when(a.created_at)),
      rows('Error', a.error)),
    a.renditions.length ? [h('h3', {}, 'Renditions'),
      h('table', { class: 'grid compact', id: 'record-renditions' },
        h('thead', {}, h('tr', {}, ['Name', 'Picture', 'Bitrate', 'Size'].map(t => h('th', {}, t)))),
        h('tbody', {}, a.renditions.map(r => h('tr', {},
          h('td', {}, r.name), h('td', {}, `${r.width}×${r.height}`),
          h('td', {}, r.average_bitrate ? `${Math.round(r.average_bitrate / 1000)} kb/s` : ''),
          h('td', {}, bytes(r.size_bytes))))))] : '',
    a.destinations.length ? [h('h3', {}, 'Destinations'),
      h('table', { class: 'grid compact', id: 'record-destinations' },
        h('thead', {}, h('tr', {}, ['Destination', 'State', 'Sent'].map(t => h('th', {}, t)))),
        h('tbody', {}, a.destinations.map(d => h('tr', { 'data-state': d.state.toLowerCase() },
          h('td', { title: d.url }, d.name || d.url),
          h('td', {}, badge(d.state.toLowerCase()), d.error ? h('div', { class: 'error' }, d.error) : ''),
          h('td', {}, bytes(d.bytes))))))] : '');
}

// loadRecord fetches a record; null when the asset has none (made before
// the catalog) or it cannot be read.
export async function loadRecord(id) {
  try {
    const { asset } = await getJSON(`api/assets/${encodeURIComponent(id)}`);
    return asset;
  } catch {
    return null;
  }
}
