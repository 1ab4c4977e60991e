// The time series, drawn by uPlot (about 50 KB, canvas, fast with thousands of points).
import uPlot from 'uplot';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// Bucket labels are the project's local times ("2026-03-01" or "2026-03-01T14:00"): read them as
// UTC and draw them in UTC, so the axis shows the project's clock whatever the browser's zone.
const seconds = (label) => Date.parse(label.length === 10 ? `${label}T00:00:00Z` : `${label}:00Z`) / 1000;

export function createChart(el) {
  let plot = null;
  let last = null;
  const resize = new ResizeObserver(() => {
    if (plot && el.clientWidth && Math.abs(plot.width - el.clientWidth) > 1) {
      plot.setSize({ width: el.clientWidth, height: plot.height });
    }
  });
  resize.observe(el);

  function draw(points, metric, label) {
    last = [points, metric, label];
    plot?.destroy();
    const data = [points.map((p) => seconds(p.date)), points.map((p) => p[metric])];
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
