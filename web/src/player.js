// Player: one <video> element driven by hls.js (or native HLS) or dash.js,
// which also plays Smooth Streaming through its MSS module.
// The state it keeps in window.vodfleetPlayer (engine, errors, ready) is
// what the browser test reads to tell "plays" from "stuck".
import Hls from 'hls.js';
import { MediaPlayer } from 'dashjs';
import { MssHandler } from 'dashjs/mss';

// dash.js looks for its optional Smooth Streaming handler on the global
// dashjs object; it then recognises a SmoothStreamingMedia manifest itself.
window.dashjs = window.dashjs || {};
window.dashjs.MssHandler = MssHandler;

export function createPlayer(video) {
  const state = { engine: '', url: '', errors: [], ready: false };
  window.vodfleetPlayer = state;
  let hls = null, dash = null;

  const onVideoError = () => {
    const e = video.error;
    if (e) state.errors.push(`media error ${e.code}: ${e.message || ''}`.trim());
  };
  video.addEventListener('error', onVideoError);
  video.addEventListener('loadedmetadata', () => { state.ready = true; });

  function stop() {
    if (hls) { hls.destroy(); hls = null; }
    if (dash) { dash.destroy(); dash = null; }
    video.removeAttribute('src');
    video.load();
    state.ready = false;
  }

  function load(engine, url) {
    stop();
    state.engine = engine;
    state.url = url;
    state.errors = [];
    if (engine === 'hls') {
      if (Hls.isSupported()) {
        hls = new Hls({ enableWorker: true });
        hls.on(Hls.Events.ERROR, (_, d) => {
          if (d.fatal) state.errors.push(`hls.js ${d.type}: ${d.details}`);
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
        video.src = url; // Safari plays HLS natively
      } else {
        state.errors.push('this browser cannot play HLS');
      }
    } else {
      // 'dash' and 'smooth': dash.js tells the manifests apart.
      dash = MediaPlayer().create();
      dash.on((MediaPlayer.events && MediaPlayer.events.ERROR) || 'error', (e) => {
        const err = e && e.error;
        state.errors.push(`dash.js: ${err ? (err.message || err.code) : 'error'}`);
      });
      dash.initialize(video, url, false);
    }
  }

  return { load, stop, state };
}
