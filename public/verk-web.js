// verk web dashboard: the page's only script (served from /assets, allowed by the CSP's
// script-src 'self'; no inline script anywhere). It
//  - listens to /live (server-sent events) while the tab is visible and closes the stream
//    while it is hidden (visibilitychange), so a background tab costs nothing;
//  - writes the live figures into [data-live] elements and draws the Dashboard's live chart;
//  - reloads the main part of pages marked data-refresh="fleet" when the fleet changes;
//  - asks before destructive actions (data-confirm) and selects all rows (data-select-all).
(() => {
  const base = document.documentElement.dataset.base || '';
  const main = document.getElementById('main');
  let stream = null;
  let fleet = null;
  const samples = [];
  const MAX_SAMPLES = 60;
  let previous = null;

  function setState(state) {
    for (const el of document.querySelectorAll('[data-live-state]')) el.dataset.liveState = state;
  }

  function start() {
    if (stream) return;
    stream = new EventSource(`${base}/live`);
    stream.onopen = () => setState('on');
    stream.onerror = () => setState('off');
    stream.onmessage = (e) => {
      try {
        update(JSON.parse(e.data));
      } catch {
        /* a malformed frame: wait for the next one */
      }
    };
  }

  function stop() {
    if (!stream) return;
    stream.close();
    stream = null;
    setState('paused');
  }

  function update(s) {
    for (const el of document.querySelectorAll('[data-live]')) {
      const v = s[el.dataset.live];
      if (typeof v === 'number') el.textContent = v.toLocaleString('en-US');
    }
    if (previous) {
      samples.push({ processed: Math.max(0, s.processed - previous.processed), failed: Math.max(0, s.failed - previous.failed) });
      if (samples.length > MAX_SAMPLES) samples.shift();
      draw();
    }
    previous = s;
    if (fleet !== null && fleet !== s.fleet && main?.dataset.refresh === 'fleet') void refresh();
    fleet = s.fleet;
  }

  function draw() {
    const svg = document.getElementById('live-chart');
    if (!svg) return;
    const [w, h, left, right, top, bottom] = [720, 180, 48, 8, 10, 28];
    const max = Math.max(1, ...samples.map((x) => Math.max(x.processed, x.failed)));
    const step = (w - left - right) / (MAX_SAMPLES - 1);
    const points = (key) => samples.map((x, i) => `${(left + i * step).toFixed(1)},${(top + (h - top - bottom) * (1 - x[key] / max)).toFixed(1)}`).join(' ');
    svg.querySelector('.line-processed').setAttribute('points', points('processed'));
    svg.querySelector('.line-failed').setAttribute('points', points('failed'));
    const label = svg.querySelector('[data-live-max]');
    if (label) label.textContent = String(max);
  }

  async function refresh() {
    const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const next = doc.getElementById('main');
    if (next && main) main.replaceChildren(...next.childNodes);
  }

  document.addEventListener('visibilitychange', () => (document.hidden ? stop() : start()));
  if (!document.hidden) start();

  document.addEventListener('submit', (e) => {
    const form = e.target;
    const ask = e.submitter?.dataset.confirm || form.dataset.confirm;
    if (ask && !window.confirm(ask)) e.preventDefault();
  });
  document.addEventListener('click', (e) => {
    const name = e.target?.dataset?.selectAll;
    if (!name) return;
    const boxes = [...document.querySelectorAll(`input[type=checkbox][name="${name}"]`)];
    const on = boxes.some((b) => !b.checked);
    for (const b of boxes) b.checked = on;
  });
})();
