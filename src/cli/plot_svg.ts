/**
 * Renders a clock's history as one SVG: four panels over a shared UTC time axis (offset,
 * frequency, delay, root distance), sources in colour with a legend, steps and leap seconds
 * marked by vertical lines. Pure: data in, SVG text out. Each panel's range covers the
 * 2nd..98th percentile of its values (so one start-up outlier does not flatten the
 * rest); values beyond it are drawn hollow at the edge.
 *
 * @module
 */
import type { MeasurementEntry, TrackingEntry } from "../io/log_parse.ts";

/** What to plot. */
export interface PlotData {
  /** Title line. */
  title: string;
  /** tracking.log entries. */
  tracking: TrackingEntry[];
  /** measurements.log entries. */
  measurements: MeasurementEntry[];
  /** Instants (Unix s) the clock was stepped, with the step in seconds. */
  steps: { t: number; offset: number }[];
  /** Instants (Unix s) of leap seconds. */
  leaps: { t: number; kind: string }[];
}

/** Source colours (Tableau 10), in order of first appearance. */
export const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

const W = 1100;
const LEFT = 96;
const RIGHT = 190;
const PANEL_H = 190;
const GAP = 56;
const TOP = 58;

/** Escapes text for SVG. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** SVG attributes in order; undefined ones are left out. */
type Attrs = Record<string, string | number | undefined>;

/** One SVG element: its attributes and its text (escaped), if any. */
function el(tag: string, attrs: Attrs, text?: string): string {
  const a = Object.entries(attrs).map(([k, v]) => v === undefined ? "" : ` ${k}="${v}"`).join("");
  return `<${tag}${a}` + (text === undefined ? "/>" : `>${xmlEscape(text)}</${tag}>`);
}

/** 1-2-5 tick positions covering [lo, hi] with about `target` ticks. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  }
  return out;
}

const TIME_STEPS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
  172800,
  604800,
];

/** Time ticks (Unix s) for [t0, t1]. */
export function timeTicks(t0: number, t1: number, target = 8): { ticks: number[]; step: number } {
  const span = Math.max(1, t1 - t0);
  const step = TIME_STEPS.find((s) => span / s <= target) ?? 604800;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return { ticks, step };
}

function timeLabel(t: number, step: number): string {
  const iso = new Date(t * 1000).toISOString();
  if (step >= 86400) return iso.slice(0, 10);
  if (step >= 60) return iso.slice(11, 16);
  return iso.slice(11, 19);
}

/** A unit for seconds values of magnitude `max`. */
export function secondsUnit(max: number): { name: string; scale: number } {
  if (max >= 1) return { name: "s", scale: 1 };
  if (max >= 1e-3) return { name: "ms", scale: 1e3 };
  if (max >= 1e-6) return { name: "µs", scale: 1e6 };
  return { name: "ns", scale: 1e9 };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

/** One series of a panel. */
interface Series {
  label: string;
  color: string;
  points: [number, number][];
  style: "dots" | "line" | "dashed";
}

function fmtTick(v: number): string {
  const r = Number(v.toPrecision(6));
  return String(r);
}

function fmtSeconds(v: number): string {
  const u = secondsUnit(v);
  return `${Number((v * u.scale).toPrecision(3))} ${u.name}`;
}

function panel(
  out: string[],
  top: number,
  title: string,
  seconds: boolean,
  unitName: string,
  series: Series[],
  x: (t: number) => number,
  ticks: { ticks: number[]; step: number },
  logScale = false,
): void {
  const plotW = W - LEFT - RIGHT;
  if (logScale) {
    series = series.map((s) => ({
      ...s,
      points: s.points.filter(([, v]) => v > 0).map(([t, v]) => [t, Math.log10(v)]),
    }));
  }
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  values.sort((a, b) => a - b);
  out.push(
    el("rect", { x: LEFT, y: top, width: plotW, height: PANEL_H, fill: "#fff", stroke: "#444" }),
  );
  const heading = { x: LEFT, y: top - 8, "font-weight": "bold" };
  if (values.length === 0) {
    const mid = { x: LEFT + plotW / 2, y: top + PANEL_H / 2, "text-anchor": "middle" };
    out.push(el("text", { ...mid, fill: "#888" }, "no data"), el("text", heading, title));
    return;
  }
  let lo = logScale ? values[0] : quantile(values, 0.02);
  let hi = logScale ? values[values.length - 1] : quantile(values, 0.98);
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(hi) * 0.1, seconds ? 1e-9 : 1e-6);
    lo -= pad;
    hi += pad;
  }
  const pad = (hi - lo) * 0.06;
  lo -= pad;
  hi += pad;
  const unit = seconds && !logScale
    ? secondsUnit(Math.max(Math.abs(lo), Math.abs(hi)))
    : { name: logScale ? "log scale" : unitName, scale: 1 };
  const y = (v: number) => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
  out.push(el("text", heading, `${title} (${unit.name})`));
  // A horizontal grid line at value `v` (in the panel's units) with its label.
  const gridLine = (v: number, stroke: string, label: string) => {
    const yy = y(v).toFixed(1);
    out.push(el("line", { x1: LEFT, x2: LEFT + plotW, y1: yy, y2: yy, stroke }));
    out.push(el("text", { x: LEFT - 6, y: (y(v) + 4).toFixed(1), "text-anchor": "end" }, label));
  };
  if (logScale) {
    for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) {
      gridLine(k, "#e4e4e4", fmtSeconds(10 ** k));
    }
  }
  for (const v of logScale ? [] : niceTicks(lo * unit.scale, hi * unit.scale)) {
    gridLine(v / unit.scale, v === 0 ? "#999" : "#e4e4e4", fmtTick(v));
  }
  for (const t of ticks.ticks) {
    const xx = x(t).toFixed(1);
    out.push(el("line", { x1: xx, x2: xx, y1: top, y2: top + PANEL_H, stroke: "#eee" }));
    const below = { x: xx, y: top + PANEL_H + 15, "text-anchor": "middle" };
    out.push(el("text", below, timeLabel(t, ticks.step)));
  }
  out.push(`<g clip-path="none">`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    if (s.style !== "dots") {
      const d = s.points.map(([t, v], i) =>
        `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(Math.min(hi, Math.max(lo, v))).toFixed(1)}`
      ).join("");
      const dash = s.style === "dashed" ? "5,3" : undefined;
      const stroke = { stroke: s.color, "stroke-width": 1.4, "stroke-dasharray": dash };
      out.push(el("path", { d, fill: "none", ...stroke }));
    } else {
      for (const [t, v] of s.points) {
        const at = { cx: x(t).toFixed(1), cy: y(Math.min(hi, Math.max(lo, v))).toFixed(1) };
        const clipped = v < lo || v > hi;
        const look = clipped ? { r: 2.6, fill: "none", stroke: s.color } : { r: 2, fill: s.color };
        out.push(el("circle", { ...at, ...look }));
      }
    }
  }
  out.push(`</g>`);
}

/** Renders the whole figure. */
export function renderPlot(data: PlotData): string {
  const times = [
    ...data.tracking.map((e) => e.t),
    ...data.measurements.map((e) => e.t),
  ];
  const t0 = times.length > 0 ? Math.min(...times) : 0;
  const t1 = times.length > 0 ? Math.max(...times) : 60;
  const span = Math.max(1, t1 - t0);
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - t0) / span) * plotW;
  const ticks = timeTicks(t0, t0 + span);
  const sources: string[] = [];
  for (const m of data.measurements) if (!sources.includes(m.source)) sources.push(m.source);
  const color = (s: string) => PALETTE[sources.indexOf(s) % PALETTE.length];
  const bySource = (value: (m: MeasurementEntry) => number): Series[] =>
    sources.map((s) => ({
      label: s,
      color: color(s),
      style: "dots" as const,
      points: data.measurements.filter((m) => m.source === s).map((m) =>
        [m.t, value(m)] as [number, number]
      ),
    }));
  // A series of the tracking log, drawn as a line.
  const trackingLine = (
    label: string,
    color: string,
    value: (e: TrackingEntry) => number,
    style: Series["style"] = "line",
  ): Series => ({
    label,
    color,
    style,
    points: data.tracking.map((e) => [e.t, value(e)] as [number, number]),
  });

  const H = TOP + 4 * (PANEL_H + GAP) + 10;
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 19);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    el("rect", { width: W, height: H, fill: "#fafafa" }),
    el("text", { x: LEFT, y: 24, "font-size": 16, "font-weight": "bold" }, data.title),
    el(
      "text",
      { x: LEFT, y: 42, fill: "#555" },
      `${iso(t0)}Z to ${
        iso(t1)
      }Z (UTC); offsets are reference minus local (> 0: local clock behind)`,
    ),
  ];
  const panels: [string, boolean, string, Series[], boolean?][] = [
    ["Offset", true, "", [
      ...bySource((m) => m.offset),
      trackingLine("correction at update", "#000", (e) => e.offset),
    ]],
    ["Frequency, chrony sense (> 0: clock fast)", false, "ppm", [
      trackingLine("frequency", "#000", (e) => e.freqPpm),
    ]],
    ["Round-trip delay", true, "", bySource((m) => m.delay)],
    ["Root distance", true, "", [
      trackingLine("root delay/2 + disp.", "#1f3f8f", (e) => e.rootDelay / 2 + e.rootDispersion),
      trackingLine("max. error", "#888", (e) => e.maxError, "dashed"),
    ], true],
  ];
  panels.forEach(([title, seconds, unit, series, logScale], i) => {
    const top = TOP + 20 + i * (PANEL_H + GAP);
    panel(out, top, title, seconds, unit, series, x, ticks, logScale ?? false);
    // Steps (red, dashed) and leap seconds (purple, dotted), labelled in the first panel.
    const markers = [
      ...data.steps.map((s) =>
        [s.t, "#d00", "6,3", 12, `step ${s.offset.toPrecision(3)} s`] as const
      ),
      ...data.leaps.map((l) => [l.t, "#80c", "2,3", 24, l.kind] as const),
    ];
    for (const [t, color, dash, dy, text] of markers) {
      const xx = x(t).toFixed(1);
      const line = { x1: xx, x2: xx, y1: top, y2: top + PANEL_H, stroke: color };
      out.push(el("line", { ...line, "stroke-width": 1.5, "stroke-dasharray": dash }));
      if (i === 0) {
        out.push(el("text", { x: xx, y: top + dy, fill: color, "font-size": 11 }, ` ${text}`));
      }
    }
    // Legend beside the panel.
    let ly = top + 12;
    for (const s of series) {
      const lx = W - RIGHT + 14;
      const dash = s.style === "dashed" ? "4,2" : undefined;
      const stroke = { stroke: s.color, "stroke-width": 2, "stroke-dasharray": dash };
      out.push(
        s.style === "dots"
          ? el("circle", { cx: lx + 6, cy: ly - 4, r: 3, fill: s.color })
          : el("line", { x1: lx, x2: lx + 14, y1: ly - 4, y2: ly - 4, ...stroke }),
      );
      out.push(el("text", { x: lx + 20, y: ly }, s.label));
      ly += 16;
    }
  });
  const lastTop = TOP + 20 + 3 * (PANEL_H + GAP);
  const axis = { x: LEFT + plotW / 2, y: lastTop + PANEL_H + 34, "text-anchor": "middle" };
  out.push(el("text", { ...axis, fill: "#333" }, "time (UTC)"));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
