/**
 * A hand-written SVG bar chart (no chart library): horizontal bars grouped by segment × codec, one colour per
 * writer, each bar labelled with its value, linear axis from zero so lengths compare honestly.
 */

export interface Bar {
  series: string;
  value: number;
  label: string;
}

export interface BarGroup {
  title: string;
  bars: Bar[];
}

const PALETTE = ['#1b6ac9', '#d9822b', '#2e9e5b', '#9b59b6', '#c0392b', '#7f8c8d', '#16a085'];

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A "nice" axis maximum ≥ max: 1, 2 or 5 × a power of ten. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((m) => m * p >= max) ?? 10) * p;
}

export function barChartSvg(title: string, subtitle: string, axisLabel: string, groups: readonly BarGroup[]): string {
  const series = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const colour = new Map(series.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
  const left = 190;
  const plotWidth = 560;
  const right = 120;
  const barHeight = 16;
  const gap = 4;
  const groupGap = 18;
  const top = 64 + Math.ceil(series.length / 4) * 18;
  const max = niceMax(Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value))));
  const x = (v: number): number => left + (v / max) * plotWidth;
  const out: string[] = [];
  let y = top;
  for (const g of groups) {
    const height = g.bars.length * (barHeight + gap) - gap;
    out.push(`<text x="${left - 10}" y="${y + height / 2 + 4}" text-anchor="end" font-weight="bold">${escape(g.title)}</text>`);
    for (const b of g.bars) {
      const w = Math.max(1, x(b.value) - left);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour.get(b.series)}"><title>${escape(`${b.series}: ${b.label}`)}</title></rect>`);
      out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barHeight - 4}" font-size="11">${escape(b.label)}</text>`);
      y += barHeight + gap;
    }
    y += groupGap;
  }
  const bottom = y;
  const ticks: string[] = [];
  for (let k = 0; k <= 5; k++) {
    const v = (max / 5) * k;
    const tx = x(v).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom - groupGap}" stroke="#ddd"/>`);
    ticks.push(`<text x="${tx}" y="${bottom - groupGap + 14}" text-anchor="middle" font-size="11">${v >= 1e6 ? `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : Math.round(v)}</text>`);
  }
  const legend = series.map((s, i) => {
    const lx = left + (i % 4) * 150;
    const ly = 48 + Math.floor(i / 4) * 18;
    return `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colour.get(s)}"/><text x="${lx + 16}" y="${ly}" font-size="12">${escape(s)}</text>`;
  });
  const width = left + plotWidth + right;
  const height = bottom + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="${left}" y="36" font-size="11" fill="#555">${escape(subtitle)}</text>`,
    ...legend,
    ...ticks,
    ...out,
    `<text x="${left + plotWidth / 2}" y="${height - 4}" text-anchor="middle" font-size="11">${escape(axisLabel)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
