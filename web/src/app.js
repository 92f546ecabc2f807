// vodfleet dashboard: one page, views chosen by the URL fragment
// (#/jobs, #/jobs/ID, #/agents, #/catalog[?search=&tag=&state=],
// #/assets/ID[/hls|/dash|/smooth]). Every request
// uses a relative URL, so the page works at the coordinator's root and
// behind the edge under /dashboard/.
import { h, duration, when, progressBar, badge, getJSON } from './dom.js';
import { createPlayer } from './player.js';
import { parseThumbnails } from './thumbs.js';
import { catalogView, recordCard, loadRecord } from './catalog.js';

const POLL_MS = 1500;
const main = () => document.getElementById('main');
let cleanup = [];

function onLeave(f) { cleanup.push(f); }

function setStatus(text, bad) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = bad ? 'status status-bad' : 'status';
}

// poll runs load now and every POLL_MS until the view changes.
function poll(load) {
  let stopped = false, timer = 0;
  const tick = async () => {
    try {
      await load();
      setStatus(`updated ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      setStatus(e.message, true);
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  onLeave(() => { stopped = true; clearTimeout(timer); });
  tick();
}

function jobLink(id) { return h('a', { href: `#/jobs/${id}`, class: 'mono' }, id); }

// ---- jobs ----------------------------------------------------------------

function jobsView() {
  const body = h('tbody');
  const table = h('table', { class: 'grid', id: 'jobs' },
    h('thead', {}, h('tr', {},
      ['Job', 'State', 'Progress', 'ETA', 'Source', 'Created', ''].map(t => h('th', {}, t)))),
    body);
  const empty = h('p', { class: 'muted', hidden: true }, 'No jobs yet: submit one with ', h('code', {}, 'vodfleet submit FILE'), '.');
  main().replaceChildren(h('h1', {}, 'Jobs'), table, empty);
  poll(async () => {
    const { jobs } = await getJSON('api/jobs');
    empty.hidden = jobs.length > 0;
    body.replaceChildren(...jobs.flatMap(j => {
      const rows = [h('tr', { 'data-job': j.id, 'data-state': j.state },
        h('td', {}, jobLink(j.id)),
        h('td', {}, badge(j.state)),
        h('td', { class: 'w-progress' }, progressBar(j.progress, j.state)),
        h('td', {}, duration(j.eta_seconds)),
        h('td', { class: 'source', title: j.source }, j.source),
        h('td', { title: j.created_at }, when(j.created_at)),
        h('td', {}, j.state === 'succeeded' ? h('a', { class: 'button', href: `#/assets/${j.asset_id}` }, '▶ Play') : ''))];
      if (j.error) rows.push(h('tr', { class: 'error-row' }, h('td', { colspan: 7 }, h('span', { class: 'error' }, j.error))));
      return rows;
    }));
  });
}

// ---- job detail ------------------------------------------------------------

function jobView(id) {
  const head = h('div', { class: 'card' });
  const body = h('tbody');
  main().replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', h('span', { class: 'mono' }, id)),
    head,
    h('h2', {}, 'Tasks'),
    h('table', { class: 'grid', id: 'tasks' },
      h('thead', {}, h('tr', {},
        ['Task', 'Kind', 'State', 'Attempt', 'Agent', 'Progress', 'Speed', 'ETA', 'Error'].map(t => h('th', {}, t)))),
      body));
  poll(async () => {
    const { job, tasks } = await getJSON(`api/jobs/${encodeURIComponent(id)}`);
    head.replaceChildren(
      h('div', { class: 'card-row' },
        h('h1', {}, 'Job ', h('span', { class: 'mono' }, job.id)), badge(job.state),
        job.state === 'succeeded' ? h('a', { class: 'button', href: `#/assets/${job.asset_id}` }, '▶ Play asset') : ''),
      progressBar(job.progress, job.state),
      h('dl', { class: 'facts' },
        fact('Source', job.source), fact('Priority', job.priority),
        fact('Created', when(job.created_at)), fact('ETA', duration(job.eta_seconds)),
        job.width ? fact('Picture', `${job.width}×${job.height}`) : null,
        job.duration_seconds ? fact('Duration', `${job.duration_seconds.toFixed(1)} s`) : null),
      job.error ? h('p', { class: 'error' }, job.error) : '');
    body.replaceChildren(...tasks.map(t => h('tr', { 'data-task': t.name, 'data-state': t.state },
      h('td', { class: 'mono' }, t.name),
      h('td', {}, t.kind),
      h('td', {}, badge(t.state)),
      h('td', {}, t.attempt || ''),
      h('td', { class: 'mono' }, t.agent_id || ''),
      h('td', { class: 'w-progress' }, progressBar(t.progress, t.state)),
      h('td', {}, [t.fps ? `${t.fps.toFixed(0)} fps` : '', t.speed ? ` ${t.speed.toFixed(1)}×` : ''].join('')),
      h('td', {}, duration(t.eta_seconds)),
      h('td', { class: 'error' }, t.error || ''))));
  });
}

function fact(k, v) {
  return v ? [h('dt', {}, k), h('dd', {}, v)] : null;
}

// ---- agents ----------------------------------------------------------------

function agentsView() {
  const body = h('tbody');
  const note = h('p', { class: 'muted', hidden: true });
  main().replaceChildren(h('h1', {}, 'Agents'), note,
    h('table', { class: 'grid', id: 'agents' },
      h('thead', {}, h('tr', {}, ['Agent', 'State', 'Slots busy', 'Labels', 'Tasks'].map(t => h('th', {}, t)))),
      body));
  poll(async () => {
    const a = await getJSON('api/agents');
    note.hidden = a.leader && a.agents.length > 0;
    note.textContent = !a.leader
      ? `This coordinator is a follower: agents connect to the leader${a.leader_address ? ` (${a.leader_address})` : ''}; open its dashboard to see them.`
      : 'No agent is connected.';
    body.replaceChildren(...a.agents.map(g => h('tr', { 'data-agent': g.id, 'data-state': g.state },
      h('td', { class: 'mono' }, g.id),
      h('td', {}, badge(g.state)),
      h('td', { class: 'w-progress' },
        h('div', { class: 'slots', title: `${g.busy} of ${g.slots} slots busy` },
          Array.from({ length: g.slots }, (_, i) => h('span', { class: i < g.busy ? 'slot busy' : 'slot' })),
          h('span', { class: 'slot-text' }, `${g.busy}/${g.slots}`))),
      h('td', {}, Object.entries(g.labels).sort().map(([k, v]) => h('span', { class: 'chip' }, `${k}=${v}`))),
      h('td', {}, g.tasks.map(t => h('div', {}, jobLink(t.split('.')[0]), h('span', { class: 'mono muted' }, `.${t.split('.').slice(1).join('.')}`)))))));
  });
}

// ---- asset + player ---------------------------------------------------------

async function assetView(id, engine) {
  const root = main();
  root.replaceChildren(h('p', { class: 'muted' }, 'Loading asset…'));
  let job, record;
  try {
    [{ job }, record] = await Promise.all([getJSON(`api/jobs/${encodeURIComponent(id)}`), loadRecord(id)]);
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, e.message));
    return;
  }
  if (job.state !== 'succeeded') {
    root.replaceChildren(h('p', {}, 'Asset ', jobLink(id), ` is not ready: the job is ${job.state}.`));
    return;
  }
  const sources = { hls: job.hls_url, dash: job.dash_url, smooth: job.smooth_url };
  if (!sources[engine]) engine = sources.hls ? 'hls' : 'dash';

  const video = h('video', { id: 'player', controls: true, playsinline: true, muted: true, preload: 'auto', poster: job.poster_url || undefined });
  const player = createPlayer(video);
  onLeave(() => player.stop());
  const info = h('div', { class: 'player-info', id: 'player-info' });
  const tabs = h('div', { class: 'tabs' }, ['hls', 'dash', 'smooth'].filter(e => sources[e]).map(e =>
    h('a', { href: `#/assets/${id}/${e}`, id: `engine-${e}`, class: e === engine ? 'tab active' : 'tab' }, e.toUpperCase())));
  const strip = h('div', { class: 'thumbs', id: 'thumbs' });
  const side = h('aside', { class: 'side' },
    record ? recordCard(record) : '',
    job.poster_url ? h('figure', {}, h('img', { id: 'poster', src: job.poster_url, alt: 'poster' }), h('figcaption', {}, 'Poster')) : '',
    h('dl', { class: 'facts' },
      fact('Job', jobLink(job.id)),
      job.width ? fact('Source picture', `${job.width}×${job.height}`) : null,
      job.duration_seconds ? fact('Duration', `${job.duration_seconds.toFixed(1)} s`) : null),
    h('ul', { class: 'links' },
      sources.hls ? h('li', {}, h('a', { href: sources.hls }, 'HLS master playlist')) : '',
      sources.dash ? h('li', {}, h('a', { href: sources.dash }, 'DASH manifest')) : '',
      sources.smooth ? h('li', {}, h('a', { href: sources.smooth }, 'Smooth Streaming manifest')) : '',
      (job.mp4_urls || []).map(u => h('li', {}, h('a', { href: u }, `MP4 ${u.split('/').pop()}`)))));

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/catalog' }, 'Catalog'), ' / ', jobLink(id), ' / asset'),
    h('div', { class: 'asset' },
      h('section', { class: 'stage' }, tabs, h('div', { class: 'video-box' }, video), info,
        h('h2', {}, 'Thumbnails'), strip),
      side));

  const showInfo = () => {
    const s = player.state;
    info.replaceChildren(
      h('span', { class: 'chip' }, s.engine.toUpperCase()),
      h('span', {}, `${video.currentTime.toFixed(1)} s`),
      video.videoWidth ? h('span', {}, `${video.videoWidth}×${video.videoHeight}`) : '',
      video.paused ? h('span', { class: 'muted' }, 'paused') : h('span', {}, 'playing'),
      s.errors.length ? h('span', { class: 'error' }, s.errors[s.errors.length - 1]) : '');
  };
  const infoTimer = setInterval(showInfo, 500);
  onLeave(() => clearInterval(infoTimer));

  player.load(engine, sources[engine]);
  video.play().catch(() => { /* autoplay may wait for a click */ });

  if (job.thumbnails_url) {
    try {
      const r = await fetch(job.thumbnails_url);
      if (!r.ok) throw new Error(`thumbnails: ${r.status}`);
      const cues = parseThumbnails(await r.text(), job.thumbnails_url);
      strip.replaceChildren(...cues.map(c => h('button', {
        class: 'thumb', title: `${c.start.toFixed(1)} s`, 'data-start': c.start,
        style: { width: `${c.w}px`, height: `${c.h}px`, backgroundImage: `url("${c.url}")`, backgroundPosition: `-${c.x}px -${c.y}px` },
        onclick: () => { video.currentTime = c.start; video.play().catch(() => {}); },
      }, h('span', {}, `${c.start.toFixed(0)} s`))));
      document.body.dataset.thumbs = String(cues.length);
    } catch (e) {
      strip.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  } else {
    strip.replaceChildren(h('p', { class: 'muted' }, 'This asset has no thumbnails.'));
  }
}

// ---- router ----------------------------------------------------------------

function route() {
  for (const f of cleanup.splice(0)) f();
  setStatus('');
  delete document.body.dataset.thumbs;
  const [path, query] = (location.hash.replace(/^#\/?/, '') || 'jobs').split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const [view, id, extra] = parts;
  document.querySelectorAll('[data-nav]').forEach(a => a.classList.toggle('active', a.dataset.nav === (view === 'assets' ? 'catalog' : view)));
  switch (view) {
    case 'jobs': return id ? jobView(id) : jobsView();
    case 'agents': return agentsView();
    case 'catalog': return catalogView(main(), query);
    case 'assets': return assetView(id, extra || 'hls');
    default: main().replaceChildren(h('p', {}, 'Unknown page. ', h('a', { href: '#/jobs' }, 'Jobs')));
  }
}

window.addEventListener('hashchange', route);
route();
