// The time series, drawn by uPlot (about 50 KB, canvas, fast with thousands of points).
import uPlot from 'uplot';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// Bucket labels are the project's local times ("2026-03-01" or "2026-03-01T14:00"): read them as
// UTC and draw them in UTC, so the axis shows the project's clock whatever the browser's zone.
const seconds = (label) => Date.parse(label.length === 10 ? `${label}T00:00:00Z` : `${label}:00Z`) / 1000;

// The project's clock now, on the same scale: "2026-03-01T14:23" read as UTC.
function localNow(timeZone, now = new Date()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(now).map((p) => [p.type, p.value]));
  return seconds(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`);
}

// The API answers every bucket of the range, those still to come too (as zeros, since nothing has
// happened in them yet). A bucket that starts after now is drawn as nothing (null: uPlot draws no
// line there and its legend no value), so a range that includes today does not seem to crash to zero;
// the bucket under way (this hour, today) is drawn as it stands.
export function values(points, metric, timeZone, now = new Date()) {
  const cut = localNow(timeZone, now);
  return points.map((p) => (seconds(p.date) > cut ? null : p[metric]));
}

export function createChart(el) {
  let plot = null;
  let last = null;
  const resize = new ResizeObserver(() => {
    if (plot && el.clientWidth && Math.abs(plot.width - el.clientWidth) > 1) {
      plot.setSize({ width: el.clientWidth, height: plot.height });
    }
  });
  resize.observe(el);

  function draw(points, metric, label, timeZone = 'UTC') {
    last = [points, metric, label, timeZone];
    plot?.destroy();
    const data = [points.map((p) => seconds(p.date)), values(points, metric, timeZone)];
    const accent = css('--accent');
    const grid = { stroke: css('--grid'), width: 1 };
    const axis = { stroke: css('--muted'), grid, ticks: grid, font: '12px system-ui, sans-serif' };
    plot = new uPlot({
      width: el.clientWidth || 600,
      height: el.clientWidth < 500 ? 200 : 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      scales: { y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [axis, { ...axis, size: 50, values: (u, ticks) => ticks.map((v) => (v >= 1000 ? `${v / 1000}k` : v)) }],
      series: [
        { label: 'Time' },
        { label, stroke: accent, width: 2, fill: `${accent}22`, points: { show: points.length <= 40, size: 5 } },
      ],
    }, data, el);
    const total = data[1].reduce((a, b) => a + b, 0);
    el.setAttribute('aria-label', `${label} over time: ${total} in total across ${points.length} points.`);
  }

  // A theme change (light/dark) changes the colours the canvas was drawn with.
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const redraw = () => last && draw(...last);
  scheme.addEventListener('change', redraw);

  return {
    draw,
    destroy() { resize.disconnect(); scheme.removeEventListener('change', redraw); plot?.destroy(); },
  };
}
