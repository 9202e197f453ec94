// The unfolded network: one column per step, the shown layer's strips in the middle,
// the readout's at the top, the layer's input at the bottom, the shared matrices between.
// A gated cell's strips carry column labels (i f g o s h) in a row of their own above them,
// which no arrow crosses: its hidden rows start lower and the arrows stop above the labels.
const VW = 860, GUT = 96, GATED = CELL !== "rnn";
const cw = (VW - GUT - 6) / T;
const sw = Math.max(6, Math.min(16, (cw - 20) / 2));
const oh = Math.min(21, 168 / OS), hh = Math.min(21, (GATED ? 156 : 168) / HS);
const Y = { head: 14, y: 32, L: 50, top: 66, out: 76, V: 266, hid: GATED ? 302 : 290, U: 476, x: 494, chips: 530 };
const outBottom = Y.out + OS * oh, hidBottom = Y.hid + HS * hh, hidMid = (Y.hid + hidBottom) / 2;
const hidTop = GATED ? Y.hid - 12 : Y.hid - 2;          // where the arrows to and from the readout stop
const cx = (t) => GUT + cw * (t + 0.5);
const LOSS_FMT = precision(D.losses.filter((v) => v !== null), { exp: false });    // a trained model's losses are small
// n strips side by side around the column's centre (two, as the RNN draws them, at cx - sw - 1 and cx + 1).
function stripX(t, k, n) {
  const w = n === 2 ? sw : Math.max(4, Math.min(16, (cw - 4 - 2 * (n - 1)) / n));
  return { x: cx(t) - (n * w + 2 * (n - 1)) / 2 + k * (w + 2), w };
}

function strip(svg, t, pos, rows, h, y0, values, colour, name, sel, label) {
  const { x, w } = pos;
  const g = el("g", { "data-strip": `${name}.${t}` }, svg);
  rows.forEach((u, r) => {
    const v = values ? values[r] : null;
    const lab = label || (name.startsWith("d") ? `\u2202L/\u2202${name.slice(1)}` : name);
    const unit = name === "yhat" || name === "do" ? `'${chOf(u)}'` : `unit ${u + 1}`;
    el("rect", {
      class: "cell" + (sel ? " click" : ""), x, y: y0 + r * h, width: w, height: h - 0.5,
      fill: v === null ? "#f1f3f6" : colour(v), stroke: v === null ? "#e2e6ec" : "#c8ced6", "stroke-width": 0.5,
      "data-tip": v === null ? "" : `${lab}(${t + 1})[${unit}] = ${v}`,
    }, g);
  });
  if (sel) g.addEventListener("click", () => select(sel));
  return { x, y: y0, w, h: rows.length * h };
}
function frame(svg, box, colour) {
  el("rect", { x: box.x - 2.5, y: box.y - 2.5, width: box.w + 5, height: box.h + 5, rx: 3, fill: "none",
               stroke: colour, "stroke-width": 2.5 }, svg);
}
function arrow(svg, x1, y1, x2, y2, back) {
  el("line", { x1, y1, x2, y2, stroke: back ? "#c0392b" : "#4a5568", "stroke-width": back ? 1.6 : 1.2,
               "marker-end": ref(svg, back ? "arrB" : "arrF") }, svg);
}
// An arrow from y1 to y2 that passes behind a matrix box at yBox: drawn in two pieces, so that
// no line runs through the box's label.
function arrowThrough(svg, x, y1, y2, yBox, back) {
  if (yBox === null) return arrow(svg, x, y1, x, y2, back);
  const s = Math.sign(y2 - y1);
  el("line", { x1: x, y1, x2: x, y2: yBox - 8 * s, stroke: back ? "#c0392b" : "#4a5568", "stroke-width": back ? 1.6 : 1.2 }, svg);
  arrow(svg, x, yBox + 8 * s, x, y2, back);
}
function matBox(svg, x, y, label, on) {
  el("rect", { x: x - 9, y: y - 8, width: 18, height: 15, rx: 3, fill: on ? "#fde68a" : "#fff",
               stroke: on ? "#b7791f" : "#8a94a3" }, svg);
  el("text", { x, y: y + 3.5, "font-size": 10, "text-anchor": "middle", "font-weight": 600 }, svg, label);
}
// Strip labels for tips: "da_i" -> "dL/da_i".
const errLabel = (name) => `\u2202L/\u2202${name.slice(1).replace(/^a(.)$/, "a_$1")}`;

function drawNet() {
  const svg = $("net");
  svg.replaceChildren();
  defs(svg);
  const st = stages[S.i], P = progress(st), V = VIEW, sc = scales(), rev = REV();
  const backward = st.kind === "bwd" || st.kind === "sum" || st.kind === "update";
  const cur = st.t, top = isTop(), gated = CELL !== "rnn";
  if (cur !== undefined) {
    el("rect", { x: cx(cur) - cw / 2 + 1, y: 2, width: cw - 2, height: Y.chips + 26, rx: 6,
                 fill: backward ? "#fdecea" : "#eaf2fb" }, svg);
  }
  // Row labels and unit labels in the gutter.
  const lab = (y, text, size = 11, colour = "#1d2430") =>
    el("text", { x: 4, y, "font-size": size, fill: colour, "font-weight": 600 }, svg, text);
  const [g1, g2] = V.gutter(backward);
  lab(Y.y + 4, "target y(t)"); lab(Y.L + 4, "loss L(t)"); lab(Y.top + 4, "top guess", 10, "#5b6472");
  lab(Y.out + 14, "\u0177(t)"); lab(Y.out + 28, backward ? "| \u2202L/\u2202o(t)" : "", 10, "#c0392b");
  lab(Y.hid + 14, g1, gated ? 10 : 11, backward ? "#c0392b" : "#1d2430");
  if (g2) lab(Y.hid + 28, g2, 10, "#c0392b");
  if (NL > 1) lab(Y.hid - 8, layerName(), 10, "#5b6472");
  const both = SEQ && LAYER() === 0;                    // the encoder reads x, the decoder y(t-1)
  lab(Y.x + 15, both ? "input x | y(t\u22121)" : `input ${inputName()}`, both ? 10 : 11);
  if (backward) lab(Y.chips + 13, "per-step \u2202", 10, "#5b6472");
  lab(Y.V + 4, top ? (DIRS > 1 ? `shared V${arrow2(rev)}` : "shared V") : `to layer ${LAYER() + 1}`, 10, "#5b6472");
  const sfx = LAYER() ? `_l${LAYER()}` : "";
  lab(Y.U + 4, SEQ ? `enc_U${sfx} | dec_U${sfx}` : `shared ${pname("U")}`, SEQ && sfx ? 9 : 10, "#5b6472");
  if (SEQ) {   // the encoder's columns: no readout; its last state is the context C
    el("rect", { x: cx(0) - cw / 2 + 1, y: Y.y - 12, width: TX * cw - 2, height: outBottom - Y.y + 14, rx: 6, fill: "#6b7280", "fill-opacity": 0.07 }, svg);
    el("text", { x: (cx(0) + cx(TX - 1)) / 2, y: Y.L + 4, "font-size": 11, "text-anchor": "middle", fill: "#5b6472" }, svg,
       "encoder: no readout");
  }
  OU.forEach((u, r) => el("text", { x: GUT - 6, y: Y.out + r * oh + oh * 0.75, "font-size": Math.min(10, oh), "text-anchor": "end",
                                    fill: "#5b6472" }, svg, chOf(u)));
  HU.forEach((u, r) => el("text", { x: GUT - 6, y: Y.hid + r * hh + hh * 0.75, "font-size": Math.min(9, hh * 0.8), "text-anchor": "end",
                                    fill: "#8a94a3" }, svg, u + 1));
  const boxes = {};
  const onUpdate = st.kind === "update";
  const mid = backward ? V.bwd() : V.fwd();
  const colourOf = (spec) => (backward ? (v) => div(v, sc.SE) : spec.scale === "P" ? prob : (v) => div(v, sc.SV));
  for (let t = 0; t < T; t++) {
    const fwd = P.fwd(t), err = P.err(t), out = hasOut(t);
    // A bidirectional network's readout reads both directions: it runs once both have run.
    const shown = out && (DIRS > 1 ? P.fwdAll : fwd);
    el("text", { x: cx(t), y: Y.head, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, stepName(t));
    // Target, loss and top guess appear once the step has run forward.
    if (out) el("text", { x: cx(t), y: Y.y + 4, "font-size": 13, "text-anchor": "middle", "font-weight": 600,
                          fill: shown ? "#1d2430" : "#b0b7c2" }, svg, chOf(D.y[t]));
    if (shown) {
      el("text", { x: cx(t), y: Y.L + 4, "font-size": cw < 44 ? 9 : 10.5, "text-anchor": "middle", "data-path": `losses.${t}`,
                   "data-fmt": LOSS_FMT, fill: "#1d2430" }, svg, format(D.losses[t], LOSS_FMT));
      const best = D.yhat[t].indexOf(Math.max(...D.yhat[t]));
      el("text", { x: cx(t), y: Y.top + 4, "font-size": 10, "text-anchor": "middle",
                   fill: best === D.y[t] ? "#2f855a" : "#5b6472" }, svg, `'${chOf(best)}'`);
    }
    const yrow = shown ? OU.map((u) => D.yhat[t][u]) : null;
    if (out) boxes[`yhat.${t}`] = strip(svg, t, stripX(t, 0, 2), OU, oh, Y.out, yrow, prob, "yhat",
                                        backward && shown ? { kind: "error", q: "o", t } : null);
    // The target's cell gets a dark outline: the entry L(t) reads.
    const ti = out ? OU.indexOf(D.y[t]) : -1;
    if (shown && ti >= 0) el("rect", { x: cx(t) - sw - 1, y: Y.out + ti * oh, width: sw, height: oh - 0.5, fill: "none",
                                    stroke: "#111", "stroke-width": 1.5, "pointer-events": "none" }, svg);
    if (backward && out) {
      boxes[`do.${t}`] = strip(svg, t, stripX(t, 1, 2), OU, oh, Y.out, err ? OU.map((u) => D.errors.o[t][u]) : null,
                               (v) => div(v, sc.SO), "do", err ? { kind: "error", q: "o", t } : null);
    }
    const on = backward ? err : fwd;
    mid.forEach((spec, k) => {
      const sel = backward && err ? { kind: "error", q: spec.q, t } : null;
      const label = gated ? (backward ? errLabel(spec.name) : spec.name) : undefined;
      boxes[`${spec.name}.${t}`] = strip(svg, t, stripX(t, k, mid.length), HU, hh, Y.hid, on ? spec.values(t) : null,
                                          colourOf(spec), spec.name, sel, label);
      if (gated && t === 0) {
        const p = stripX(t, k, mid.length);
        el("text", { x: p.x + p.w / 2, y: Y.hid - 3, "font-size": 8, "text-anchor": "middle", fill: "#5b6472" }, svg,
           backward ? spec.name.slice(1).replace(/^a/, "") || spec.name : spec.name);
      }
    });
    // The shared matrices: the same U and V boxes in every column, W between columns.
    const active = !backward && t === cur;
    if (err && backward) {
      if (out) arrowThrough(svg, cx(t), outBottom + 2, hidTop - 1, top ? Y.V : null, true);
    } else {
      arrowThrough(svg, cx(t), Y.x - 2, hidBottom + 3, Y.U, false);
      if (out) arrowThrough(svg, cx(t), hidTop, outBottom + 3, top ? Y.V : null, false);
    }
    if (top && out) matBox(svg, cx(t), Y.V, "V", onUpdate || active || (st.kind === "bwd" && t === cur));
    matBox(svg, cx(t), Y.U, "U", onUpdate || active || (st.kind === "bwd" && t === cur));
    if (t > 0) {
      // A gated column leaves no room between its strips: its W runs just above them.
      const x1 = gated ? cx(t - 1) + 6 : cx(t - 1) + sw + 3, x2 = gated ? cx(t) - 6 : cx(t) - sw - 3;
      const yW = gated ? Y.hid - 15 : hidMid, yB = gated ? yW : yW + 8;
      // Forward, the state runs from t-1 to t (the reverse direction's from t to t-1); backward,
      // the error the other way, once it has reached the step it goes to.
      const back = backward && P.err(rev ? t : t - 1);
      const [from, to] = rev !== back ? [x2, x1] : [x1, x2];
      arrow(svg, from, back ? yB : yW, to, back ? yB : yW, back);
      // The link in use at this stage: into the current step forward, out of it backward.
      const into = rev ? cur + 1 : cur, outOf = rev ? cur : cur + 1;
      const context = SEQ && t === TX;                 // the encoder's last state starts the decoder
      el("text", { x: (x1 + x2) / 2, y: yW - (gated ? 3 : 5), "font-size": 10, "text-anchor": "middle", "font-weight": 600,
                   fill: context ? "#2f855a" : onUpdate || (t === into && !backward) || (backward && t === outOf) ? "#b7791f" : "#4a5568",
                   "data-tip": !context ? "" : NL > 1
                     ? (back ? `\u2202L/\u2202${ctxName()}: what the decoder's layer ${LAYER()} sends back to the encoder's`
                       : `the context ${ctxName()} = the last state of the encoder's layer ${LAYER()}, the h(0) of the decoder's`)
                     : (back ? "\u2202L/\u2202C: what the decoder sends back to the encoder" : "the context C = the encoder's last state, the decoder's h(0)") },
         svg, context ? ctxName() : "W");
    }
    drawInput(svg, t, fwd);
    // Each step's gradient contribution, clickable once its errors exist.
    if (backward && err) {
      const names = top && out ? ["U", "W", "V"] : ["U", "W"], wc = Math.min(15, (cw - 6) / 3);
      names.forEach((p, k) => {
        const x = cx(t) - (names.length * wc + 2 * (names.length - 1)) / 2 + k * (wc + 2);
        const picked = S.sel && S.sel.kind === "contrib" && S.sel.t === t && S.sel.p === p;
        const r = el("rect", { class: "click", x, y: Y.chips, width: wc, height: 16, rx: 3,
                               fill: picked ? stepColour(t) : "#fff", stroke: stepColour(t), "stroke-width": 1.3,
                               "data-tip": `\u2202${p}(${t + 1}): this step's contribution to \u2202L/\u2202${p === "V" ? p : colName(p, t)}; click to see what it needs` }, svg);
        const tx = el("text", { x: x + wc / 2, y: Y.chips + 12, "font-size": 10, "text-anchor": "middle", class: "click",
                                fill: picked ? "#fff" : stepColour(t), "font-weight": 700 }, svg, p);
        for (const e of [r, tx]) e.addEventListener("click", () => select({ kind: "contrib", p, t }));
      });
    }
  }
  // The article's coloured frames: every error the selected quantity needs.
  if (S.sel) {
    const c = stepColour(S.sel.t);
    for (const key of needs(S.sel)) if (boxes[key]) frame(svg, boxes[key], c);
  }
  const ly = 572;
  legend(svg, 8, ly, "gDiv", backward ? (sc.SO !== sc.SE ? "this layer's errors" : "errors \u2202L/\u2202\u00b7") : gated ? "values" : "a(t), h(t)",
         ...[["\u2212", backward ? sc.SE : sc.SV], ["+", backward ? sc.SE : sc.SV]].map(([sign, v]) => sign + format(v, fmtOf(v))));
  legend(svg, 150, ly, "gProb", gated ? "\u0177(t), gates: 0 to 1" : "\u0177(t): probability", "0", "1");
  el("text", { x: 300, y: ly + 4, "font-size": 11, fill: "#5b6472" }, svg,
     "Blue negative, white zero, red positive. Hover a cell for its exact value; the boxed \u0177 cell is the target.");
  if (backward && sc.SO !== sc.SE) {
    el("text", { x: 300, y: ly - 12, "font-size": 11, fill: "#5b6472" }, svg,
       `The errors \u2202L/\u2202o(t) at the top have a scale of their own, \u00b1${format(sc.SO, fmtOf(sc.SO))}.`);
  }
  el("text", { x: 300, y: ly + 20, "font-size": 11, fill: "#5b6472" }, svg,
     backward ? "Click an error strip, or a U/W/V chip (a step's gradient contribution), to see what it is made of."
              : "U, W and V are the same shared matrices in every column: one set of parameters, unfolded in time.");
}

// The layer's input: the character x(t), or the h(t) of the layer below as a row of cells
// (blank until forward has reached step t).
function drawInput(svg, t, fwd) {
  if (LAYER() === 0) {
    // The decoder reads the previous target (teacher forcing): a dashed box.
    const forced = SEQ && t >= TX;
    el("rect", { x: cx(t) - 11, y: Y.x, width: 22, height: 20, rx: 3, fill: forced ? "#f0fff4" : "#fff", stroke: forced ? "#2f855a" : "#8a94a3",
                 "stroke-dasharray": forced ? "3 2" : "none",
                 "data-tip": forced ? (t === TX ? "the start token" : `teacher forcing: the previous target y(${t - TX}) = '${chIn(t)}'`) : "" }, svg);
    el("text", { x: cx(t), y: Y.x + 15, "font-size": 13, "text-anchor": "middle", "font-weight": 600 }, svg, chIn(t));
    return;
  }
  // A bidirectional layer below: its [h forward; h reverse], the shown units of each.
  const lower = D.layers.findIndex((L) => (L.layer === undefined ? 0 : L.layer) === LAYER() - 1 && !L.reverse);
  const below = DIRS > 1 ? D.layers[lower].h[t].concat(D.layers[lower + 1].h[t]) : D.layers[lower].h[t], w = Math.min(6, (cw - 6) / HS), sv = scales().SV;
  const g = el("g", { "data-strip": `below.${t}` }, svg);
  const w2 = Math.min(w, (cw - 6) / below.length);
  below.forEach((v, j) => el("rect", { class: "cell", x: cx(t) - (below.length * w2) / 2 + j * w2, y: Y.x + 4, width: w2 - 0.5, height: 12,
    fill: fwd ? div(v, sv) : "#f1f3f6", stroke: fwd ? "#c8ced6" : "#e2e6ec", "stroke-width": 0.5,
    "data-tip": fwd ? `h${sub(LAYER() - 1)}${DIRS > 1 ? (j < HS ? " forward" : " reverse") : ""}(${t + 1})[unit ${HU[j % HS] + 1}] = ${v}` : "" }, g));
}

// What a selected quantity is computed from (keys of drawn strips).
function needs(sel) {
  const t = sel.t, out = [];
  if (sel.kind === "error") return sel.q === "o" ? [`yhat.${t}`] : VIEW.needs(sel.q, t);
  if (sel.p === "V") return [`do.${t}`];
  // A step's U or W contribution needs its errors, which need every later step's (in the shown
  // direction's own order).
  const names = VIEW.bwd().map((s) => s.name);
  for (let s = t; s >= 0 && s < T; s = nxt(s)) out.push(...outKey(s), ...names.map((n) => `${n}.${s}`));
  return out;
}
