// Browser test of the dashboard, run by the Go test
// TestDashboardPlaysHLSDASHAndSmoothInChromium (coordinator/dashboard): Debian's
// Chromium, headless, driven by playwright-core.
//
//   node test/play.mjs --dashboard URL --job ID [--via-edge URL] [--screenshot FILE]
//
// It opens the jobs page (the job is listed), the agents page, the same
// jobs page through the edge's /dashboard/ proxy when --via-edge is given,
// the catalog page (the job's asset is listed, found by its tag and by a
// search word, and not by a word it lacks), then the job's asset page (its
// catalog record shows next to the player) and asserts for HLS, DASH and
// then Smooth Streaming (dash.js's MSS module, from the edge's
// manifest.ism/ view of the same CMAF segments) that the video really
// plays: currentTime advances by at least 1 s, no media or player error,
// videoWidth is 320, and the poster and the thumbnails show; clicking a
// thumbnail seeks. For Smooth it also checks that playback crosses into
// the second fragment and that the edge answered the manifest and video
// and audio fragments, none with an error. Exit
// status 0 only if all holds.
//
// With VODFLEET_DASHBOARD_TOKEN set, the browser signs in the way a person
// does: the dashboard's API answers 401 with a Basic challenge and the
// browser answers with the token as the password (Playwright's
// httpCredentials stand in for the prompt). The script first checks that
// the API refuses a request without it.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    dashboard: { type: 'string' },
    job: { type: 'string' },
    'via-edge': { type: 'string' },
    screenshot: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    width: { type: 'string', default: '320' },
    timeout: { type: 'string', default: '120000' },
  },
});
if (!opt.dashboard || !opt.job) {
  console.error('usage: play.mjs --dashboard URL --job ID [--via-edge URL] [--screenshot FILE]');
  process.exit(2);
}
const T = Number(opt.timeout);
const wantWidth = Number(opt.width);
const base = opt.dashboard.endsWith('/') ? opt.dashboard : opt.dashboard + '/';
const log = (...a) => console.log('play:', ...a);

function check(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
  log('ok', msg);
}

const token = process.env.VODFLEET_DASHBOARD_TOKEN || '';
if (token) {
  // Without credentials the API refuses and asks for Basic auth.
  const r = await fetch(base + 'api/jobs');
  check(r.status === 401 && /^Basic /.test(r.headers.get('www-authenticate') || ''),
    `api without a token: ${r.status} ${r.headers.get('www-authenticate')}`);
}

const profile = mkdtempSync(join(tmpdir(), 'vodfleet-chromium-'));
// A fresh profile (user-data-dir) per run, removed at the end.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: opt.chromium,
  headless: true,
  viewport: { width: 1280, height: 860 },
  // Sent only after a 401 challenge, like a person typing into the prompt.
  ...(token ? { httpCredentials: { username: 'vodfleet', password: token } } : {}),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
}).catch((e) => { rmSync(profile, { recursive: true, force: true }); throw e; });

let failed = false;
try {
  const page = browser.pages()[0] || await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') log('console error:', m.text()); });
  // Smooth Streaming requests (manifest and fragments), answered by the edge.
  const smoothResponses = [];
  page.on('response', (r) => {
    if (r.url().includes('/manifest.ism/')) smoothResponses.push({ url: r.url(), status: r.status() });
  });
  page.setDefaultTimeout(T);

  // Jobs page: the job is listed as succeeded with a play link.
  await page.goto(base + '#/jobs');
  const row = page.locator(`#jobs tr[data-job="${opt.job}"]`);
  await row.waitFor();
  check(await row.getAttribute('data-state') === 'succeeded', `jobs page lists ${opt.job} as succeeded`);

  // Job detail: its tasks.
  await page.goto(base + `#/jobs/${opt.job}`);
  await page.locator('#tasks tr[data-task="package"]').waitFor();
  check(await page.locator('#tasks tr[data-task]').count() >= 3, 'job page lists the tasks');

  // Agents page: at least one agent with its slots.
  await page.goto(base + '#/agents');
  await page.locator('#agents tr[data-agent]').first().waitFor();
  const agents = await page.locator('#agents tr[data-agent]').count();
  check(agents >= 1, `agents page lists ${agents} agent(s)`);

  if (opt['via-edge']) {
    const viaEdge = opt['via-edge'].replace(/\/$/, '') + '/dashboard/';
    await page.goto(viaEdge + '#/jobs');
    await page.locator(`#jobs tr[data-job="${opt.job}"]`).waitFor();
    check(true, `jobs page through the edge (${viaEdge}) lists the job`);
  }

  // Catalog: the asset submitted by browser_test.go (title "Browser
  // harbour clip", tag browser-test) is listed as ready.
  await page.goto(base + '#/catalog');
  const asset = page.locator(`#catalog tr[data-asset="${opt.job}"]`);
  await asset.waitFor();
  check(await asset.getAttribute('data-state') === 'ready', `catalog lists ${opt.job} as ready`);
  check((await asset.innerText()).includes('Browser harbour clip') && (await asset.innerText()).includes('browser-test'),
    'catalog row shows the title and the tag');
  const searchFor = async (words, tag) => {
    await page.fill('#catalog-search', words);
    await page.fill('#catalog-tag', tag);
    await page.click('#catalog-filters button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.catalog === 'ready');
    return page.locator('#catalog tr[data-asset]').evaluateAll(rows => rows.map(r => r.dataset.asset));
  };
  let found = await searchFor('harbour', '');
  check(found.includes(opt.job), `search "harbour" finds the asset (${found.join(',')})`);
  found = await searchFor('harb*', 'browser-test');
  check(found.length === 1 && found[0] === opt.job, `search "harb*" with tag browser-test finds only it (${found.join(',')})`);
  found = await searchFor('nosuchword', '');
  check(!found.includes(opt.job) && await page.locator('#catalog tr[data-asset]').count() === 0, 'search for a missing word lists nothing');
  // The title links to the asset page, which shows the record.
  await searchFor('harbour', '');
  await page.locator(`#catalog tr[data-asset="${opt.job}"] a`).first().click();
  await page.locator('#record').waitFor();
  const rec = await page.locator('#record').textContent();
  log('record', JSON.stringify(rec.slice(0, 300)));
  check(rec.includes('Browser harbour clip') && rec.includes('browser-test') && rec.includes('chromium') && /\d+×\d+/.test(rec),
    'asset page shows the record: title, tag, field and source facts');
  check(await page.locator('#record-renditions tbody tr').count() >= 1, 'asset page lists the renditions');

  for (const engine of ['hls', 'dash', 'smooth']) {
    await page.goto(base + `#/assets/${opt.job}/${engine}`);
    await page.waitForFunction((e) => window.vodfleetPlayer && window.vodfleetPlayer.engine === e, engine);
    await page.waitForFunction(() => {
      const v = document.getElementById('player');
      const s = window.vodfleetPlayer;
      return (v && v.currentTime >= 1.0) || (s && s.errors.length > 0) || (v && v.error);
    });
    const st = await page.evaluate(() => {
      const v = document.getElementById('player');
      return { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, err: v.error && v.error.code, errors: window.vodfleetPlayer.errors };
    });
    log(engine, JSON.stringify(st));
    check(!st.err && st.errors.length === 0, `${engine}: no media or player error (${st.errors.join('; ')})`);
    check(st.t >= 1.0, `${engine}: currentTime advanced to ${st.t.toFixed(2)} s`);
    check(st.w === wantWidth, `${engine}: videoWidth ${st.w} is ${wantWidth}`);
    if (engine === 'smooth') {
      // Play on past the first fragment (2 s): the next one must continue
      // the timeline the manifest and its tfxd box give.
      await page.waitForFunction(() => {
        const v = document.getElementById('player');
        return v.currentTime >= 2.5 || v.error || window.vodfleetPlayer.errors.length > 0;
      });
      const later = await page.evaluate(() => ({ t: document.getElementById('player').currentTime, errors: window.vodfleetPlayer.errors }));
      check(later.t >= 2.5 && later.errors.length === 0, `smooth: played into the second fragment (${later.t.toFixed(2)} s)`);
      const ok = (re) => smoothResponses.filter(r => re.test(r.url) && r.status === 200).length;
      const failed = smoothResponses.filter(r => r.status >= 400);
      check(ok(/\/manifest\.ism\/Manifest$/) >= 1, 'smooth: the edge served manifest.ism/Manifest');
      check(ok(/\/QualityLevels\(\d+\)\/Fragments\(video=\d+\)$/) >= 2 && ok(/\/QualityLevels\(\d+\)\/Fragments\(audio=\d+\)$/) >= 2,
        `smooth: the edge served two or more video and audio fragments (${smoothResponses.length} requests)`);
      check(failed.length === 0, `smooth: no failed request (${failed.map(r => `${r.status} ${r.url}`).join('; ')})`);
    }

    // Poster: the image loaded.
    await page.waitForFunction(() => { const i = document.getElementById('poster'); return i && i.complete && i.naturalWidth > 0; });
    const poster = await page.evaluate(() => document.getElementById('poster').naturalWidth);
    check(poster > 0, `${engine}: poster shows (${poster}px wide)`);

    // Thumbnails: tiles from the WebVTT track whose sprite loads.
    await page.waitForFunction(() => Number(document.body.dataset.thumbs || 0) > 0);
    const sprite = await page.evaluate(async () => {
      const t = document.querySelector('#thumbs .thumb');
      const url = getComputedStyle(t).backgroundImage.replace(/^url\("?|"?\)$/g, '');
      const img = new Image();
      img.src = url;
      await img.decode();
      return { tiles: document.querySelectorAll('#thumbs .thumb').length, w: img.naturalWidth };
    });
    check(sprite.tiles >= 1 && sprite.w > 0, `${engine}: ${sprite.tiles} thumbnail tile(s), sprite ${sprite.w}px wide`);

    // Clicking the first thumbnail seeks back to its start.
    await page.waitForFunction(() => document.getElementById('player').currentTime >= 1.0);
    const before = await page.evaluate(() => document.getElementById('player').currentTime);
    await page.locator('#thumbs .thumb').first().click();
    await page.waitForFunction((b) => document.getElementById('player').currentTime < b - 0.5, before);
    check(true, `${engine}: clicking the first thumbnail seeked back from ${before.toFixed(2)} s`);
    if (engine === 'hls' && opt.screenshot) {
      await page.waitForFunction(() => document.getElementById('player').currentTime >= 0.5);
      await page.screenshot({ path: opt.screenshot });
      log('screenshot', opt.screenshot);
    }
  }
  check(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
  log('all checks passed');
} catch (e) {
  failed = true;
  console.error('play: FAILED:', e && e.message ? e.message : e);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
