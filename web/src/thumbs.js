// WebVTT thumbnail track: cues whose text is "sprite.jpg#xywh=x,y,w,h".

function seconds(ts) {
  const parts = ts.trim().split(':').map(Number);
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

// parseThumbnails returns [{start, end, url, x, y, w, h}], with url
// resolved against the track's own URL.
export function parseThumbnails(text, base) {
  const out = [];
  const blocks = text.replace(/\r/g, '').split(/\n\n+/);
  for (const b of blocks) {
    const lines = b.split('\n').filter(Boolean);
    const i = lines.findIndex(l => l.includes('-->'));
    if (i < 0 || !lines[i + 1]) continue;
    const [a, z] = lines[i].split('-->');
    const ref = lines[i + 1].trim();
    const [file, frag] = ref.split('#');
    const m = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag || '');
    if (!m) continue;
    out.push({
      start: seconds(a), end: seconds(z.trim().split(/\s/)[0]),
      url: new URL(file, base).href,
      x: +m[1], y: +m[2], w: +m[3], h: +m[4],
    });
  }
  return out;
}
