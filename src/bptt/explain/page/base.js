// The data, number formatting, colours and drawing helpers every other file uses.
// Draws only what the embedded JSON holds: every number on the page was computed by
// bptt's own forward and backward in Python. Numbers shown as text carry data-path and
// data-fmt so a test can check them against the JSON.
const D = JSON.parse(document.getElementById("bptt-data").textContent);
const T = D.x.length, HU = D.hidden_units, OU = D.output_units, HS = HU.length, OS = OU.length;
const F = D.model.nonlinearity, CELL = D.model.cell || "rnn", NL = D.model.layers || 1;
// A bidirectional network (DIRS = 2) shows each layer's directions one at a time, in time order;
// an encoder-decoder (SEQ) shows its encoder's TX steps, then its decoder's, in one row of columns.
const DIRS = D.model.directions || 1, SEQ = D.model.kind === "seq2seq", TX = D.model.tx || 0;
const hasOut = (t) => !SEQ || t >= TX;                      // the encoder's steps have no readout
const NS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ formatting
const ch = (c) => (c === " " ? "\u2423" : c === "\n" ? "\u21b5" : c === "\t" ? "\u21e5" : c);
const chOf = (id) => ch(D.vocab[id]);
// What column t reads: a character of the text, or (the decoder) the teacher-forced previous target.
const chIn = (t) => ch(SEQ && t < TX ? D.in_vocab[D.x[t]] : D.vocab[D.x[t]]);
// The name of column t: its step t, or the encoder's or decoder's own step.
const stepName = (t) => (!SEQ ? `t=${t + 1}` : t < TX ? `enc ${t + 1}` : `dec ${t - TX + 1}`);
function format(v, fmt) {
  let s;
  if (fmt[0] === "f") s = v.toFixed(+fmt.slice(1));
  else if (fmt[0] === "p") s = (100 * v).toFixed(+fmt.slice(1));
  else {  // Python's "{:.Ne}": the exponent has a sign and at least two digits
    const m = v.toExponential(+fmt.slice(1)).split("e");
    const e = +m[1];
    s = m[0] + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;  // never show "-0.000"
}
function get(path) { return path.split(".").reduce((o, k) => o[k], D); }
// The precision of numbers shown side by side (a table's column, a row of losses), from their
// values: enough decimals that three quarters of them keep two significant digits, so that a
// trained model's small errors do not read 0.000; below 1e-4 a mantissa and an exponent.
function precision(values, { exp = true } = {}) {
  const mags = values.map(Math.abs).filter((v) => v > 0 && Number.isFinite(v)).sort((a, b) => a - b);
  if (!mags.length) return "f3";
  const d = Math.max(3, Math.ceil(1 - Math.log10(mags[Math.floor(mags.length / 4)])));
  return d <= 4 ? `f${d}` : exp ? "e1" : `f${Math.min(d, 5)}`;
}
const fmtOf = (v) => precision([v]);
// A number with its data path. Without a format, its precision is chosen with its neighbours'
// (``fitPrecision``) once the panel is drawn.
const num = (path, fmt) =>
  `<span class="n" data-path="${path}" data-fmt="${fmt || "f3"}"${fmt ? "" : " data-auto"}>${format(get(path), fmt || "f3")}</span>`;
// Numbers without a format of their own share one precision: per column in a table of numbers,
// per paragraph or equation elsewhere.
function fitPrecision(root) {
  const groups = new Map();                              // table or block -> column -> spans
  for (const span of root.querySelectorAll(".n[data-auto]")) {
    const cell = span.closest("td");
    const [owner, column] = cell ? [cell.closest("table"), cell.cellIndex] : [span.closest("p, div") || root, -1];
    if (!groups.has(owner)) groups.set(owner, new Map());
    const cols = groups.get(owner);
    if (!cols.has(column)) cols.set(column, []);
    cols.get(column).push(span);
  }
  for (const cols of groups.values()) {
    for (const spans of cols.values()) {
      const fmt = precision(spans.map((e) => get(e.dataset.path)));
      for (const e of spans) { e.dataset.fmt = fmt; e.textContent = format(get(e.dataset.path), fmt); }
    }
  }
}
function escapeHtml(s) { return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }

// ------------------------------------------------------------------ colours
const maxAbs = (a) => a.flat(Infinity).reduce((m, v) => (v === null || v === undefined ? m : Math.max(m, Math.abs(v))), 0) || 1;
const mix = (c0, c1, u) => `rgb(${c0.map((c, i) => Math.round(c + (c1[i] - c) * u)).join(",")})`;
const WHITE = [255, 255, 255], RED = [178, 24, 43], BLUE = [33, 102, 172], PURPLE = [84, 39, 143];
function div(v, m) { const u = Math.max(-1, Math.min(1, v / m)); return u >= 0 ? mix(WHITE, RED, u) : mix(WHITE, BLUE, -u); }
const prob = (v) => mix(WHITE, PURPLE, Math.sqrt(Math.max(0, Math.min(1, v))));
const stepColour = (t) => `hsl(${Math.round((t * 360) / Math.max(T, 1) + 20) % 360},70%,42%)`;

// ------------------------------------------------------------------ svg helpers
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
// Ids are prefixed with the svg's own id: a gradient or marker referenced from a hidden
// svg (display: none) is not painted, so each svg carries its own.
const ref = (svg, id) => `url(#${svg.id}-${id})`;
function defs(svg) {
  const d = el("defs", {}, svg);
  for (const [id, colour] of [["arrF", "#4a5568"], ["arrB", "#c0392b"]]) {
    const m = el("marker", { id: `${svg.id}-${id}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, d);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: colour }, m);
  }
  const grads = { gDiv: [BLUE, WHITE, RED], gProb: [WHITE, PURPLE] };
  for (const id in grads) {
    const g = el("linearGradient", { id: `${svg.id}-${id}` }, d);
    grads[id].forEach((c, i, all) => el("stop", { offset: i / (all.length - 1), "stop-color": mix(c, c, 0) }, g));
  }
}
function legend(svg, x, y, gid, title, lo, hi) {
  el("text", { x, y: y - 4, "font-size": 11, fill: "#1d2430" }, svg, title);
  el("rect", { x, y, width: 120, height: 10, fill: ref(svg, gid), stroke: "#99a" }, svg);
  el("text", { x, y: y + 22, "font-size": 10, fill: "#5b6472" }, svg, lo);
  el("text", { x: x + 120, y: y + 22, "font-size": 10, fill: "#5b6472", "text-anchor": "end" }, svg, hi);
}

// ------------------------------------------------------------------ small heat maps in the panel
function heat(mat, scale, label, rowsName, colsName, cell = 8) {
  const rows = mat.length, cols = mat[0].length;
  let s = `<figure><svg width="${cols * cell + 2}" height="${rows * cell + 2}">`;
  mat.forEach((row, i) => row.forEach((v, j) => {
    s += `<rect class="cell" x="${1 + j * cell}" y="${1 + i * cell}" width="${cell - 0.5}" height="${cell - 0.5}" fill="${div(v, scale)}" data-tip="${label}[${rowsName(i)}, ${colsName(j)}] = ${v}"/>`;
  }));
  return s + `</svg><figcaption style="max-width:${Math.max(cols * cell + 2, 90)}px">${label}<br>\u00b1${format(scale, "e1")}</figcaption></figure>`;
}
const unitName = (i) => `unit ${HU[i] + 1}`, outName = (i) => `'${chOf(OU[i])}'`;
const col = (v) => v.map((x) => [x]);
const argmaxAbs = (m) => { let best = [0, 0]; m.forEach((r, i) => r.forEach((v, j) => { if (Math.abs(v) > Math.abs(m[best[0]][best[1]])) best = [i, j]; })); return best; };
// Block k (a gate) of a row of G*HS values laid out block after block.
const block = (row, k) => row.slice(k * HS, (k + 1) * HS);
