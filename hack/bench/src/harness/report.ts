import type { Group } from './subjects.js';

export interface Row {
  id: string;
  label: string;
  group: Group | 'redis';
  ceiling: boolean;
  compareTo?: string[];
  /** When set, the only ceilings this row is compared with (a cache get is not a lock). */
  ratioTo?: string[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Throughput relative to each ceiling of the row's group, by the ceiling's id. */
  ratios?: Record<string, number>;
  skipped?: string;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const ceilingsOf = (rows: Row[]) => rows.filter((r) => r.ceiling && !r.skipped);

/** Fills each row's throughput ratio to every ceiling of its group. */
export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    if (row.skipped) continue;
    const candidates = row.ratioTo
      ? rows.filter((r) => row.ratioTo!.includes(r.id))
      : rows.filter((r) => r.group === row.group || row.compareTo?.includes(r.id));
    const ceilings = ceilingsOf(candidates);
    row.ratios = Object.fromEntries(ceilings.map((c) => [c.id, row.rps / c.rps]));
  }
}

export function table(title: string, rows: Row[]): string {
  const ceilings = [...new Set(rows.flatMap((r) => Object.keys(r.ratios ?? {})))];
  const header = ['subject', 'req/s', 'p50 ms', 'p99 ms', 'errors', ...ceilings.map((c) => `÷ ${c}`)];
  const body = rows.map((r) =>
    r.skipped
      ? [r.label, 'skipped', '', '', '', ...ceilings.map(() => ''), r.skipped]
      : [
          r.label,
          fmt(r.rps),
          fmt(r.p50Ms, 2),
          fmt(r.p99Ms, 2),
          String(r.errors),
          ...ceilings.map((c) => fmt(r.ratios?.[c] ?? NaN, 2)),
        ],
  );
  header.push('');
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === header.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `## ${title}`,
    line(header),
    line(widths.map((w, i) => (header[i] ? '-'.repeat(w) : ''))),
    ...body.map(line),
  ].join('\n');
}

/** A horizontal bar chart of throughput, one panel per group, as a self-contained SVG. */
export function svgChart(groups: Array<[string, Row[]]>, caption: string): string {
  const barH = 22,
    gap = 6,
    labelW = 380,
    chartW = 420,
    top = 40;
  let y = top;
  const parts: string[] = [];
  for (const [title, rows] of groups) {
    const measured = rows.filter((r) => !r.skipped);
    const max = Math.max(1, ...measured.map((r) => r.rps));
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${escapeXml(title)}</text>`);
    y += 24;
    for (const r of measured) {
      const w = Math.max(1, (r.rps / max) * chartW);
      const color = r.ceiling ? '#8a8a8a' : r.id.startsWith('ours') ? '#2b6cb0' : '#c05621';
      parts.push(
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${escapeXml(r.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`,
        `<text x="${labelW + w + 6}" y="${y + 15}">${fmt(r.rps)}/s  p99 ${fmt(r.p99Ms, 2)} ms</text>`,
      );
      y += barH + gap;
    }
    y += 14;
  }
  const width = labelW + chartW + 260;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15">${escapeXml(caption)}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
