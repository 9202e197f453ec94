// Draws only what the embedded JSON holds: every number on the page was computed by
// bptt's own forward and backward in Python. Numbers shown as text carry data-path and
// data-fmt so a test can check them against the JSON.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("bptt-data").textContent);
  const T = D.x.length, HU = D.hidden_units, OU = D.output_units, HS = HU.length, OS = OU.length;
  const F = D.model.nonlinearity;
  const NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ formatting
  const ch = (c) => (c === " " ? "\u2423" : c === "\n" ? "\u21b5" : c === "\t" ? "\u21e5" : c);
  const chOf = (id) => ch(D.vocab[id]);
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
  const num = (path, fmt = "f3") =>
    `<span class="n" data-path="${path}" data-fmt="${fmt}">${format(get(path), fmt)}</span>`;

  // ------------------------------------------------------------------ colours
  const maxAbs = (a) => a.flat(Infinity).reduce((m, v) => (v === null ? m : Math.max(m, Math.abs(v))), 0) || 1;
  const SV = maxAbs([D.a, D.h]);
  const SE = maxAbs([D.errors.o, D.errors.h, D.errors.a]);
  // One scale per parameter, shared by its per-step contributions and its sum, so steps compare.
  // Per-step maps share one scale per parameter so steps compare; sums get their own.
  const SG = {}, SS = {};
  for (const k in D.grads) { SG[k] = maxAbs([D.per_step[k]]); SS[k] = maxAbs([D.grads[k]]); }
  const SP = maxAbs([D.params.U, D.params.W, D.params.V]);
  const mix = (c0, c1, u) => `rgb(${c0.map((c, i) => Math.round(c + (c1[i] - c) * u)).join(",")})`;
  const WHITE = [255, 255, 255], RED = [178, 24, 43], BLUE = [33, 102, 172], PURPLE = [84, 39, 143];
  function div(v, m) { const u = Math.max(-1, Math.min(1, v / m)); return u >= 0 ? mix(WHITE, RED, u) : mix(WHITE, BLUE, -u); }
  const prob = (v) => mix(WHITE, PURPLE, Math.sqrt(Math.max(0, Math.min(1, v))));
  const stepColour = (t) => `hsl(${Math.round((t * 360) / Math.max(T, 1) + 20) % 360},70%,42%)`;

  // ------------------------------------------------------------------ stages
  const stages = [{ kind: "intro" }];
  for (let t = 0; t < T; t++) stages.push({ kind: "fwd", t });
  stages.push({ kind: "loss" });
  for (let t = T - 1; t >= 0; t--) stages.push({ kind: "bwd", t });
  stages.push({ kind: "sum" }, { kind: "update" });
  const S = { i: 0, sel: null, lag: false, lr: D.update.lrs.indexOf(D.update.lr) };

  function stageLabel(st) {
    switch (st.kind) {
      case "intro": return "The unfolded network";
      case "fwd": return `Forward \u00b7 step t = ${st.t + 1} of ${T}`;
      case "loss": return "The loss L = \u03a3 L(t)";
      case "bwd": return `Backward \u00b7 step t = ${st.t + 1} (${T - st.t} of ${T})`;
      case "sum": return "Sum of the per-step contributions";
      default: return "One update of the shared parameters";
    }
  }
  // How far each phase has got: forward values exist for t < fwdUpTo, errors for t >= bwdFrom.
  function progress(st) {
    if (st.kind === "intro") return { fwdUpTo: 0, bwdFrom: T };
    if (st.kind === "fwd") return { fwdUpTo: st.t + 1, bwdFrom: T };
    if (st.kind === "loss") return { fwdUpTo: T, bwdFrom: T };
    if (st.kind === "bwd") return { fwdUpTo: T, bwdFrom: st.t };
    return { fwdUpTo: T, bwdFrom: 0 };
  }

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

  // ------------------------------------------------------------------ the unfolded network
  const VW = 860, G = 96;
  const cw = (VW - G - 6) / T;
  const sw = Math.max(6, Math.min(16, (cw - 20) / 2));
  const oh = Math.min(21, 168 / OS), hh = Math.min(21, 168 / HS);
  const Y = { head: 14, y: 32, L: 50, top: 66, out: 76, V: 266, hid: 290, U: 476, x: 494, chips: 530 };
  const outBottom = Y.out + OS * oh, hidBottom = Y.hid + HS * hh, hidMid = (Y.hid + hidBottom) / 2;
  const cx = (t) => G + cw * (t + 0.5);

  function strip(svg, t, side, rows, h, y0, values, colour, name, sel) {
    const x = side === 0 ? cx(t) - sw - 1 : cx(t) + 1;
    const g = el("g", { "data-strip": `${name}.${t}` }, svg);
    rows.forEach((u, r) => {
      const v = values ? values[r] : null;
      const label = name.startsWith("d") ? `\u2202L/\u2202${name.slice(1)}(${t + 1})` : `${name}(${t + 1})`;
      const unit = name === "yhat" || name === "do" ? `'${chOf(u)}'` : `unit ${u + 1}`;
      el("rect", {
        class: "cell" + (sel ? " click" : ""), x, y: y0 + r * h, width: sw, height: h - 0.5,
        fill: v === null ? "#f1f3f6" : colour(v), stroke: v === null ? "#e2e6ec" : "#c8ced6", "stroke-width": 0.5,
        "data-tip": v === null ? "" : `${label}[${unit}] = ${v}`,
      }, g);
    });
    if (sel) g.addEventListener("click", () => select(sel));
    return { x, y: y0, w: sw, h: rows.length * h };
  }
  function frame(svg, box, colour) {
    el("rect", { x: box.x - 2.5, y: box.y - 2.5, width: box.w + 5, height: box.h + 5, rx: 3, fill: "none",
                 stroke: colour, "stroke-width": 2.5 }, svg);
  }
  function arrow(svg, x1, y1, x2, y2, back) {
    el("line", { x1, y1, x2, y2, stroke: back ? "#c0392b" : "#4a5568", "stroke-width": back ? 1.6 : 1.2,
                 "marker-end": ref(svg, back ? "arrB" : "arrF") }, svg);
  }
  function matBox(svg, x, y, label, on) {
    el("rect", { x: x - 9, y: y - 8, width: 18, height: 15, rx: 3, fill: on ? "#fde68a" : "#fff",
                 stroke: on ? "#b7791f" : "#8a94a3" }, svg);
    el("text", { x, y: y + 3.5, "font-size": 10, "text-anchor": "middle", "font-weight": 600 }, svg, label);
  }

  function drawNet() {
    const svg = $("net");
    svg.replaceChildren();
    defs(svg);
    const st = stages[S.i], P = progress(st);
    const backward = st.kind === "bwd" || st.kind === "sum" || st.kind === "update";
    const cur = st.t;
    if (cur !== undefined) {
      el("rect", { x: cx(cur) - cw / 2 + 1, y: 2, width: cw - 2, height: Y.chips + 26, rx: 6,
                   fill: backward ? "#fdecea" : "#eaf2fb" }, svg);
    }
    // Row labels and unit labels in the gutter.
    const lab = (y, text, size = 11, colour = "#1d2430") =>
      el("text", { x: 4, y, "font-size": size, fill: colour, "font-weight": 600 }, svg, text);
    lab(Y.y + 4, "target y(t)"); lab(Y.L + 4, "loss L(t)"); lab(Y.top + 4, "top guess", 10, "#5b6472");
    lab(Y.out + 14, "\u0177(t)"); lab(Y.out + 28, backward ? "| \u2202L/\u2202o(t)" : "", 10, "#c0392b");
    lab(Y.hid + 14, backward ? "\u2202L/\u2202h(t)" : "a(t) | h(t)", 11, backward ? "#c0392b" : "#1d2430");
    if (backward) lab(Y.hid + 28, "| \u2202L/\u2202a(t)", 10, "#c0392b");
    lab(Y.x + 15, "input x(t)");
    if (backward) lab(Y.chips + 13, "per-step \u2202", 10, "#5b6472");
    lab(Y.V + 4, "shared V", 10, "#5b6472"); lab(Y.U + 4, "shared U", 10, "#5b6472");
    OU.forEach((u, r) => el("text", { x: G - 6, y: Y.out + r * oh + oh * 0.75, "font-size": Math.min(10, oh), "text-anchor": "end",
                                      fill: "#5b6472" }, svg, chOf(u)));
    HU.forEach((u, r) => el("text", { x: G - 6, y: Y.hid + r * hh + hh * 0.75, "font-size": Math.min(9, hh), "text-anchor": "end",
                                      fill: "#8a94a3" }, svg, u + 1));
    const boxes = {};
    const onUpdate = st.kind === "update";
    for (let t = 0; t < T; t++) {
      const fwd = t < P.fwdUpTo, err = t >= P.bwdFrom;
      el("text", { x: cx(t), y: Y.head, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, `t=${t + 1}`);
      // Target, loss and top guess appear once the step has run forward.
      el("text", { x: cx(t), y: Y.y + 4, "font-size": 13, "text-anchor": "middle", "font-weight": 600,
                   fill: fwd ? "#1d2430" : "#b0b7c2" }, svg, chOf(D.y[t]));
      if (fwd) {
        el("text", { x: cx(t), y: Y.L + 4, "font-size": cw < 44 ? 9 : 10.5, "text-anchor": "middle", "data-path": `losses.${t}`,
                     "data-fmt": "f3", fill: "#1d2430" }, svg, format(D.losses[t], "f3"));
        const best = D.yhat[t].indexOf(Math.max(...D.yhat[t]));
        el("text", { x: cx(t), y: Y.top + 4, "font-size": 10, "text-anchor": "middle",
                     fill: best === D.y[t] ? "#2f855a" : "#5b6472" }, svg, `'${chOf(best)}'`);
      }
      const yrow = fwd ? OU.map((u) => D.yhat[t][u]) : null;
      boxes[`yhat.${t}`] = strip(svg, t, 0, OU, oh, Y.out, yrow, prob, "yhat",
                                 backward && fwd ? { kind: "error", q: "o", t } : null);
      // The target's cell gets a dark outline: the entry L(t) reads.
      const ti = OU.indexOf(D.y[t]);
      if (fwd && ti >= 0) el("rect", { x: cx(t) - sw - 1, y: Y.out + ti * oh, width: sw, height: oh - 0.5, fill: "none",
                                      stroke: "#111", "stroke-width": 1.5, "pointer-events": "none" }, svg);
      if (backward) {
        boxes[`do.${t}`] = strip(svg, t, 1, OU, oh, Y.out, err ? OU.map((u) => D.errors.o[t][u]) : null,
                                 (v) => div(v, SE), "do", err ? { kind: "error", q: "o", t } : null);
        boxes[`dh.${t}`] = strip(svg, t, 0, HU, hh, Y.hid, err ? D.errors.h[t] : null, (v) => div(v, SE), "dh",
                                 err ? { kind: "error", q: "h", t } : null);
        boxes[`da.${t}`] = strip(svg, t, 1, HU, hh, Y.hid, err ? D.errors.a[t] : null, (v) => div(v, SE), "da",
                                 err ? { kind: "error", q: "a", t } : null);
      } else {
        boxes[`a.${t}`] = strip(svg, t, 0, HU, hh, Y.hid, fwd ? D.a[t] : null, (v) => div(v, SV), "a", null);
        boxes[`h.${t}`] = strip(svg, t, 1, HU, hh, Y.hid, fwd ? D.h[t] : null, (v) => div(v, SV), "h", null);
      }
      // The shared matrices: the same U and V boxes in every column, W between columns.
      const active = !backward && t === cur;
      if (err && backward) {
        arrow(svg, cx(t), outBottom + 2, cx(t), Y.hid - 3, true);
      } else {
        arrow(svg, cx(t), Y.x - 2, cx(t), hidBottom + 3, false);
        arrow(svg, cx(t), Y.hid - 2, cx(t), outBottom + 3, false);
      }
      matBox(svg, cx(t), Y.V, "V", onUpdate || active || (st.kind === "bwd" && t === cur));
      matBox(svg, cx(t), Y.U, "U", onUpdate || active || (st.kind === "bwd" && t === cur));
      if (t > 0) {
        const x1 = cx(t - 1) + sw + 3, x2 = cx(t) - sw - 3;
        const back = backward && t >= P.bwdFrom + 1;
        if (back) arrow(svg, x2, hidMid + 8, x1, hidMid + 8, true);
        else arrow(svg, x1, hidMid, x2, hidMid, false);
        el("text", { x: (x1 + x2) / 2, y: hidMid - 5, "font-size": 10, "text-anchor": "middle", "font-weight": 600,
                     fill: onUpdate || (t === cur && !backward) || (backward && t === cur + 1) ? "#b7791f" : "#4a5568" },
           svg, "W");
      }
      // Input character.
      el("rect", { x: cx(t) - 11, y: Y.x, width: 22, height: 20, rx: 3, fill: "#fff", stroke: "#8a94a3" }, svg);
      el("text", { x: cx(t), y: Y.x + 15, "font-size": 13, "text-anchor": "middle", "font-weight": 600 }, svg, chOf(D.x[t]));
      // Each step's gradient contribution, clickable once its errors exist.
      if (backward && err) {
        const names = ["U", "W", "V"], wc = Math.min(15, (cw - 6) / 3);
        names.forEach((p, k) => {
          const x = cx(t) - (3 * wc + 4) / 2 + k * (wc + 2);
          const picked = S.sel && S.sel.kind === "contrib" && S.sel.t === t && S.sel.p === p;
          const r = el("rect", { class: "click", x, y: Y.chips, width: wc, height: 16, rx: 3,
                                 fill: picked ? stepColour(t) : "#fff", stroke: stepColour(t), "stroke-width": 1.3,
                                 "data-tip": `\u2202${p}(${t + 1}): this step's contribution to \u2202L/\u2202${p}; click to see what it needs` }, svg);
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
    legend(svg, 8, ly, "gDiv", backward ? "errors \u2202L/\u2202\u00b7" : "a(t), h(t)",
           `\u2212${format(backward ? SE : SV, "f3")}`, `+${format(backward ? SE : SV, "f3")}`);
    legend(svg, 150, ly, "gProb", "\u0177(t): probability", "0", "1");
    el("text", { x: 300, y: ly + 4, "font-size": 11, fill: "#5b6472" }, svg,
       "Blue negative, white zero, red positive. Hover a cell for its exact value; the boxed \u0177 cell is the target.");
    el("text", { x: 300, y: ly + 20, "font-size": 11, fill: "#5b6472" }, svg,
       backward ? "Click an error strip, or a U/W/V chip (a step's gradient contribution), to see what it is made of."
                : "U, W and V are the same shared matrices in every column: one set of parameters, unfolded in time.");
  }

  // What a selected quantity is computed from (keys of drawn strips).
  function needs(sel) {
    const t = sel.t, out = [];
    if (sel.kind === "error") {
      if (sel.q === "o") out.push(`yhat.${t}`);
      if (sel.q === "h") { out.push(`do.${t}`); if (t + 1 < T) out.push(`da.${t + 1}`); }
      if (sel.q === "a") out.push(`dh.${t}`);
      return out;
    }
    if (sel.p === "V") return [`do.${t}`];
    // dL/da(t) needs dL/dh(t), which needs dL/do(t) and dL/da(t+1), and so on to the last step.
    for (let s = t; s < T; s++) out.push(`do.${s}`, `dh.${s}`, `da.${s}`);
    return out;
  }

  // ------------------------------------------------------------------ panel
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
  const fName = { tanh: "tanh", relu: "relu", linear: "identity" }[F];
  const fPrime = { tanh: "(1 \u2212 h(t)\u00b2)", relu: "[a(t) > 0]", linear: "1" }[F];

  function panelIntro() {
    return `<h2>The unfolded network</h2>
      <p>One column per time step. The model reads <b>x(t)</b> (a character, bottom), updates its hidden state
      <b>h(t)</b> (middle) from x(t) and h(t\u22121), and predicts the next character <b>\u0177(t)</b> (top).
      Its loss at each step is <b>L(t)</b> = \u2212log of the probability it gave the true next character y(t).</p>
      <div class="eq">a(t) = b + W h(t\u22121) + U x(t)<span class="no">10.8</span></div>
      <div class="eq">h(t) = ${fName}(a(t))<span class="no">10.9</span></div>
      <div class="eq">o(t) = c + V h(t)<span class="no">10.10</span></div>
      <div class="eq">\u0177(t) = softmax(o(t))<span class="no">10.11</span></div>
      <p>The same <b>U, W, V, b, c</b> serve every step. Forward runs left to right; back-propagation through time
      then runs right to left: the errors \u2202L/\u2202o(t), \u2202L/\u2202h(t), \u2202L/\u2202a(t) depend on t, each step adds
      its contribution to every gradient, and their sum updates the shared parameters <i>once</i>.</p>
      <p class="hint">Next \u25b6 or the \u2192 key steps forward; \u2190 steps back; Home/End jump. Text: \u201c${escapeHtml(D.text)}\u201d,
      ${T} steps, h(0) = 0.</p>`;
  }
  function panelFwd(t) {
    const yId = D.y[t];
    const top = D.yhat[t].map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`params.b.${j}`)}</td><td>${num(`terms.Wh.${t}.${j}`)}</td><td>${num(`terms.Ux.${t}.${j}`)}</td>
        <td><b>${num(`a.${t}.${j}`)}</b></td><td><b>${num(`h.${t}.${j}`)}</b></td></tr>`;
    });
    return `<h2>Forward, step t = ${t + 1}: reading '${chOf(D.x[t])}'</h2>
      <div class="eq">a(t) = b + W h(t\u22121) + U x(t)<span class="no">10.8</span></div>
      <div class="eq">h(t) = ${fName}(a(t))<span class="no">10.9</span></div>
      <table class="nums"><tr><th>unit</th><th>b</th><th>W h(t\u22121)</th><th>U x(t)</th><th>a(t)</th><th>h(t)</th></tr>${rows}</table>
      <p class="hint">U x(t) is column '${chOf(D.x[t])}' of U (x(t) is one-hot)${t === 0 ? "; h(0) = 0, so W h(0) = 0" : ""}.</p>
      <div class="eq">\u0177(t) = softmax(c + V h(t))<span class="no">10.10\u201310.11</span></div>
      <p>Top guesses: ${top.map(([, k]) => `'${chOf(k)}' ${num(`yhat.${t}.${k}`, "p1")}%`).join(", ")}</p>
      <div class="eq">L(t) = \u2212log \u0177(t)[y(t) = '${chOf(yId)}'] = \u2212log ${num(`yhat.${t}.${yId}`, "f4")} = <b>${num(`losses.${t}`)}</b></div>`;
  }
  function panelLoss() {
    const terms = D.losses.map((_, t) => num(`losses.${t}`)).join(" + ");
    return `<h2>The loss of the whole sequence</h2>
      <div class="eq">L = \u03a3<sub>t</sub> L(t)<span class="no">10.12\u201310.14</span></div>
      <p>${terms}</p><p class="big">L = ${num("loss", "f4")}</p>
      <p>A model that guessed uniformly over ${D.vocab.length} characters would score ${T} \u00d7 log ${D.vocab.length}
      = ${(T * Math.log(D.vocab.length)).toFixed(3)}.</p>
      <p class="hint">Next: back-propagation through time, from the last step to the first. Each step's errors need the
      errors of the steps after it.</p>`;
  }
  function errorTable(t) {
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`terms.Vdo.${t}.${j}`)}</td><td>${num(`terms.Wda.${t}.${j}`)}</td>
        <td><b>${num(`errors.h.${t}.${j}`)}</b></td><td>${num(`terms.fprime.${t}.${j}`)}</td><td><b>${num(`errors.a.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>V\u1d40\u2202L/\u2202o(t)</th><th>W\u1d40\u2202L/\u2202a(t+1)</th><th>\u2202L/\u2202h(t)</th>
      <th>f\u2032(a(t))</th><th>\u2202L/\u2202a(t)</th></tr>${rows}</table>`;
  }
  function panelBwd(t) {
    const yId = D.y[t], xi = OU.indexOf(D.x[t]);
    return `<h2>Backward, step t = ${t + 1}</h2>
      <div class="eq">\u2202L/\u2202o(t) = \u0177(t) \u2212 1<sub>y(t)</sub><span class="no">10.18</span></div>
      <p>at the target '${chOf(yId)}': ${num(`yhat.${t}.${yId}`, "f4")} \u2212 1 = ${num(`errors.o.${t}.${yId}`, "f4")}; elsewhere \u0177(t) itself.</p>
      <div class="eq">\u2202L/\u2202h(t) = V\u1d40 \u2202L/\u2202o(t) + W\u1d40 \u2202L/\u2202a(t+1)<span class="no">10.21</span></div>
      <div class="eq">\u2202L/\u2202a(t) = ${fPrime} \u2299 \u2202L/\u2202h(t)<span class="no">10.21</span></div>
      ${errorTable(t)}
      <h3>This step's contributions (summed later)</h3>
      <div class="maps">${heat(D.per_step.W[t], SG.W, `\u2202W(${t + 1}) = \u2202L/\u2202a(t) h(t\u22121)\u1d40`, unitName, unitName, 12)}
      ${heat(D.per_step.V[t], SG.V, `\u2202V(${t + 1}) = \u2202L/\u2202o(t) h(t)\u1d40`, outName, unitName, 12)}
      ${xi >= 0 ? heat(col(D.per_step.U[t].map((r) => r[xi])), SG.U, `\u2202U(${t + 1}), column '${chOf(D.x[t])}'`, unitName, () => `'${chOf(D.x[t])}'`, 12) : ""}</div>
      <p class="hint">Click a U/W/V chip under any revealed column to frame every error that contribution needs.</p>`;
  }
  function panelSum() {
    const [i, j] = argmaxAbs(D.grads.W);
    const terms = D.per_step.W.map((_, t) => num(`per_step.W.${t}.${i}.${j}`)).join(" + ");
    const [vi, vj] = argmaxAbs(D.grads.V);
    return `<h2>Sum over the steps: one gradient per parameter</h2>
      <div class="eq">\u2202L/\u2202W = \u03a3<sub>t</sub> \u2202L/\u2202a(t) h(t\u22121)\u1d40<span class="no">10.25\u201310.26</span></div>
      <div class="eq">\u2202L/\u2202U = \u03a3<sub>t</sub> \u2202L/\u2202a(t) x(t)\u1d40<span class="no">10.27\u201310.28</span></div>
      <div class="eq">\u2202L/\u2202b = \u03a3<sub>t</sub> \u2202L/\u2202a(t)<span class="no">10.23</span></div>
      <div class="eq">\u2202L/\u2202V = \u03a3<sub>t</sub> \u2202L/\u2202o(t) h(t)\u1d40<span class="no">10.24</span></div>
      <div class="eq">\u2202L/\u2202c = \u03a3<sub>t</sub> \u2202L/\u2202o(t)<span class="no">10.22</span></div>
      <p>The largest entry, W[unit ${HU[i] + 1}, unit ${HU[j] + 1}]:</p>
      <p>${terms} = <b>${num(`grads.W.${i}.${j}`)}</b></p>
      <p>V['${chOf(OU[vi])}', unit ${HU[vj] + 1}] = <b>${num(`grads.V.${vi}.${vj}`)}</b></p>
      <div class="maps">${heat(D.grads.U, SS.U, "\u2202L/\u2202U", unitName, outName, 11)}${heat(D.grads.W, SS.W, "\u2202L/\u2202W", unitName, unitName, 11)}
      ${heat(D.grads.V, SS.V, "\u2202L/\u2202V", outName, unitName, 11)}${heat(col(D.grads.b), SS.b, "\u2202L/\u2202b", unitName, () => "", 11)}
      ${heat(col(D.grads.c), SS.c, "\u2202L/\u2202c", outName, () => "", 11)}</div>`;
  }
  function panelUpdate() {
    const lr = D.update.lrs[S.lr], after = D.update.loss_after[S.lr];
    const [i, j] = argmaxAbs(D.grads.W);
    const newW = D.params.W.map((r, a) => r.map((v, b) => v - lr * D.grads.W[a][b]));
    const upd = `<span class="n" data-path="params.W.${i}.${j}" data-minus="grads.W.${i}.${j}" data-fmt="f4">${format(newW[i][j], "f4")}</span>`;
    return `<h2>One update of the shared parameters</h2>
      <div class="eq">\u03b8 \u2190 \u03b8 \u2212 \u03b7 \u2202L/\u2202\u03b8 &nbsp; for \u03b8 = U, W, b, V, c</div>
      <p>Every step contributed, but the parameters change <b>once</b>, with \u03b7 = <span id="lr-shown">${lr}</span> (choose it above).</p>
      <p>W[unit ${HU[i] + 1}, unit ${HU[j] + 1}]: ${num(`params.W.${i}.${j}`, "f4")} \u2212 ${lr} \u00d7 ${num(`grads.W.${i}.${j}`, "f4")} = <b>${upd}</b></p>
      <p class="big">L: ${num("loss", "f4")} \u2192 <span class="n" data-path="update.loss_after.${S.lr}" data-fmt="f4">${format(after, "f4")}</span></p>
      <p class="hint">The loss after the update was computed by bptt's own forward pass for each offered \u03b7.
      ${after < D.loss ? "It went down." : "It went up: this step size overshoots."}</p>
      <div class="maps">${heat(D.params.W, SP, "W before", unitName, unitName, 12)}${heat(D.grads.W.map((r) => r.map((g) => -lr * g)), maxAbs([D.grads.W]) * lr, "\u2212\u03b7 \u2202L/\u2202W (own scale)", unitName, unitName, 12)}${heat(newW, SP, "W after", unitName, unitName, 12)}</div>`;
  }
  function panelSelection(sel) {
    const c = stepColour(sel.t), t = sel.t;
    let body;
    if (sel.kind === "contrib") {
      const what = { U: "\u2202L/\u2202a(t) x(t)\u1d40", W: "\u2202L/\u2202a(t) h(t\u22121)\u1d40", V: "\u2202L/\u2202o(t) h(t)\u1d40" }[sel.p];
      body = `<b>\u2202${sel.p}(${t + 1}) = ${what}</b><br>` + (sel.p === "V"
        ? "needs only this step's output error \u2202L/\u2202o(t): framed."
        : `needs \u2202L/\u2202a(${t + 1}), which needs \u2202L/\u2202h(${t + 1}), which needs \u2202L/\u2202o(${t + 1}) and \u2202L/\u2202a(${t + 2})\u2026: every error from step ${t + 1} to ${T}, framed.`);
    } else if (sel.q === "o") {
      body = `<b>\u2202L/\u2202o(${t + 1}) = \u0177(${t + 1}) \u2212 1<sub>y</sub></b>: at '${chOf(D.y[t])}' ${num(`yhat.${t}.${D.y[t]}`, "f4")} \u2212 1 = ${num(`errors.o.${t}.${D.y[t]}`, "f4")}`;
    } else if (sel.q === "h") {
      body = `<b>\u2202L/\u2202h(${t + 1}) = V\u1d40\u2202L/\u2202o(${t + 1}) + W\u1d40\u2202L/\u2202a(${t + 2})</b>${t + 1 === T ? " (the last step: no later term)" : ""}${errorTable(t)}`;
    } else {
      body = `<b>\u2202L/\u2202a(${t + 1}) = ${fPrime} \u2299 \u2202L/\u2202h(${t + 1})</b>${errorTable(t)}`;
    }
    return `<div class="sel" style="border-color:${c}"><button id="unselect" title="Esc">\u00d7 close</button>${body}</div>`;
  }
  function panelLag() {
    return `<h2>Gradient norms by lag</h2>
      <p>Send each step's loss L(t) back <i>alone</i> through the same W\u1d40 and f\u2032 steps and measure how much of it
      reaches the hidden state k steps earlier: \u2016\u2202L(t)/\u2202h(t\u2212k)\u2016.</p>
      <p>Left: one row per loss step t, one column per hidden state; right: the mean over t for each lag k, on a log
      scale. In a simple RNN these usually shrink as the lag grows \u2014 the vanishing gradient that makes long memories hard to learn.</p>
      <p>Summed over t, these vectors give exactly the \u2202L/\u2202h(k) of the backward pass.</p>
      <p class="hint">Lag 0: ${num("lag.by_lag.0", "e2")}; lag ${T - 1}: ${num(`lag.by_lag.${T - 1}`, "e2")}.</p>`;
  }

  function drawLag() {
    const svg = $("lag");
    svg.replaceChildren();
    defs(svg);
    const vals = D.lag.norms.flat().filter((v) => v !== null && v > 0);
    const lo = Math.log10(Math.min(...vals)), hi = Math.log10(Math.max(...vals));
    const shade = (v) => (v === null ? "#fff" : mix(WHITE, PURPLE, hi > lo ? (Math.log10(Math.max(v, 1e-300)) - lo) / (hi - lo) : 1));
    const cell = Math.min(24, 380 / T), x0 = 60, y0 = 60;
    el("text", { x: x0, y: 30, "font-size": 13, "font-weight": 600 }, svg, "\u2016\u2202L(t)/\u2202h(k)\u2016");
    el("text", { x: x0 + (T * cell) / 2, y: y0 + T * cell + 34, "font-size": 11, "text-anchor": "middle", fill: "#5b6472" }, svg, "hidden state k");
    el("text", { x: 18, y: y0 + (T * cell) / 2, "font-size": 11, "text-anchor": "middle", fill: "#5b6472",
                 transform: `rotate(-90 18 ${y0 + (T * cell) / 2})` }, svg, "loss step t");
    D.lag.norms.forEach((row, t) => {
      el("text", { x: x0 - 4, y: y0 + t * cell + cell * 0.7, "font-size": 10, "text-anchor": "end", fill: "#5b6472" }, svg, t + 1);
      el("text", { x: x0 + t * cell + cell / 2, y: y0 + T * cell + 14, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, t + 1);
      row.forEach((v, k) => el("rect", { class: "cell", x: x0 + k * cell, y: y0 + t * cell, width: cell - 1, height: cell - 1,
        fill: shade(v), stroke: v === null ? "#eef0f3" : "none",
        "data-tip": v === null ? `L(${t + 1}) cannot reach h(${k + 1}), a later step` : `\u2016\u2202L(${t + 1})/\u2202h(${k + 1})\u2016 = ${v}` }, svg));
    });
    el("rect", { x: x0, y: y0 + T * cell + 46, width: 160, height: 10, fill: ref(svg, "gProb"), stroke: "#99a" }, svg);
    el("text", { x: x0, y: y0 + T * cell + 70, "font-size": 10, fill: "#5b6472" }, svg, format(10 ** lo, "e1"));
    el("text", { x: x0 + 160, y: y0 + T * cell + 70, "font-size": 10, fill: "#5b6472", "text-anchor": "end" }, svg, format(10 ** hi, "e1"));
    el("text", { x: x0 + 170, y: y0 + T * cell + 56, "font-size": 10, fill: "#5b6472" }, svg, "norm (log colour scale)");
    // Bars: mean norm per lag, log scale.
    const bx = 500, by = 60, bw = 330, bh = 380, bl = D.lag.by_lag;
    const blo = Math.floor(Math.log10(Math.min(...bl.filter((v) => v > 0)))), bhi = Math.ceil(Math.log10(Math.max(...bl)));
    const yOf = (v) => by + bh - ((Math.log10(Math.max(v, 10 ** blo)) - blo) / Math.max(1, bhi - blo)) * bh;
    el("text", { x: bx, y: 30, "font-size": 13, "font-weight": 600 }, svg, "mean norm by lag k = t \u2212 k (log scale)");
    for (let e = blo; e <= bhi; e++) {
      el("line", { x1: bx, x2: bx + bw, y1: yOf(10 ** e), y2: yOf(10 ** e), stroke: "#e2e6ec" }, svg);
      el("text", { x: bx - 4, y: yOf(10 ** e) + 3, "font-size": 10, "text-anchor": "end", fill: "#5b6472" }, svg, `1e${e}`);
    }
    const w = bw / T;
    bl.forEach((v, d) => {
      const y = yOf(v);
      el("rect", { class: "cell", x: bx + d * w + 2, y, width: w - 4, height: by + bh - y, fill: "#6b46c1",
                   "data-tip": `lag ${d}: mean \u2016\u2202L(t)/\u2202h(t\u2212${d})\u2016 = ${v}` }, svg);
      el("text", { x: bx + d * w + w / 2, y: by + bh + 14, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, d);
      if (T <= 8 || d % 2 === 0) el("text", { x: bx + d * w + w / 2, y: y - 4, "font-size": 9, "text-anchor": "middle",
        "data-path": `lag.by_lag.${d}`, "data-fmt": "e1" }, svg, format(v, "e1"));
    });
    el("text", { x: bx + bw / 2, y: by + bh + 32, "font-size": 11, "text-anchor": "middle", fill: "#5b6472" }, svg, "lag k (steps back)");
  }

  // ------------------------------------------------------------------ state and controls
  function escapeHtml(s) { return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
  function select(sel) {
    const same = S.sel && JSON.stringify(S.sel) === JSON.stringify(sel);
    S.sel = same ? null : sel;
    render();
  }
  function go(i) {
    S.i = Math.max(0, Math.min(stages.length - 1, i));
    S.sel = null;
    render();
  }
  function render() {
    const st = stages[S.i];
    $("slider").value = S.i;
    $("stage-label").textContent = `${S.i + 1}/${stages.length} \u00b7 ${stageLabel(st)}`;
    $("stage-label").dataset.stage = st.kind + (st.t === undefined ? "" : `.${st.t}`);
    $("first").disabled = $("prev").disabled = S.i === 0;
    $("last").disabled = $("next").disabled = S.i === stages.length - 1;
    $("lag-toggle").setAttribute("aria-pressed", String(S.lag));
    $("net").toggleAttribute("hidden", S.lag); $("lag").toggleAttribute("hidden", !S.lag);  // SVG elements have no .hidden property
    if (S.lag) { drawLag(); $("panel").innerHTML = panelLag(); return; }
    drawNet();
    let html = "";
    if (S.sel) html += panelSelection(S.sel);
    if (!S.sel || S.sel.kind === "contrib") {
      html += { intro: panelIntro, fwd: () => panelFwd(st.t), loss: panelLoss, bwd: () => panelBwd(st.t),
                sum: panelSum, update: panelUpdate }[st.kind]();
    }
    $("panel").innerHTML = html;
    const un = $("unselect");
    if (un) un.addEventListener("click", () => select(S.sel));
  }

  function about() {
    const m = D.model;
    const origin = m.source ? `weights from ${escapeHtml(m.source)}` : m.seed === null ? "weights given in Python" : `random weights (seed ${m.seed})`;
    let s = `A simple RNN of <i>Deep Learning</i> \u00a710.2: ${m.n_hidden} hidden units, ${fName}, a vocabulary of
      ${m.n_in} characters, ${origin}. It reads \u201c${escapeHtml(D.text)}\u201d and predicts each next character:
      ${T} steps, every number computed by bptt.`;
    if (HS < m.n_hidden || OS < m.n_out) {
      s += ` <span class="warn">Showing the first ${HS} of ${m.n_hidden} hidden units` +
           (OS < m.n_out ? ` and the ${OS} output units of the text's characters out of ${m.n_out}` : "") + ".</span>";
    }
    return s;
  }

  $("about").innerHTML = about();
  $("slider").max = stages.length - 1;
  D.update.lrs.forEach((v, k) => { const o = new Option(String(v), String(k)); $("lr").add(o); });
  $("lr").value = String(S.lr);
  $("lr").addEventListener("change", () => { S.lr = +$("lr").value; render(); });
  $("first").addEventListener("click", () => go(0));
  $("prev").addEventListener("click", () => go(S.i - 1));
  $("next").addEventListener("click", () => go(S.i + 1));
  $("last").addEventListener("click", () => go(stages.length - 1));
  $("slider").addEventListener("input", () => go(+$("slider").value));
  $("lag-toggle").addEventListener("click", () => { S.lag = !S.lag; S.sel = null; render(); });
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLSelectElement || e.target === $("slider")) return;  // their own arrow keys
    const k = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (k) { go(S.i + k); e.preventDefault(); }
    else if (e.key === "Home") { go(0); e.preventDefault(); }
    else if (e.key === "End") { go(stages.length - 1); e.preventDefault(); }
    else if (e.key === "Escape" && S.sel) { S.sel = null; render(); }
  });
  // One tooltip for every cell: the exact value, as stored in the JSON.
  const tip = $("tip");
  document.addEventListener("mouseover", (e) => {
    const t = e.target.closest && e.target.closest("[data-tip]");
    if (!t || !t.dataset.tip) { tip.hidden = true; return; }
    tip.textContent = t.dataset.tip; tip.hidden = false;
  });
  document.addEventListener("mousemove", (e) => {
    if (tip.hidden) return;
    const w = tip.offsetWidth;
    tip.style.left = Math.min(e.clientX + 14, window.innerWidth - w - 6) + "px";
    tip.style.top = e.clientY + 16 + "px";
  });
  render();
})();
