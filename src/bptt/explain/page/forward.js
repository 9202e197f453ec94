// The forward-mode view: the sensitivity dz(t)/dW[r, c] of the state to one entry of W, carried
// forward step by step by real-time recurrent learning (bptt.rtrl: M(t) = J(t) M(t-1) + I(t)),
// beside the backward errors of BPTT for the same entry. Each step adds dL(t)/dz(t) M(t) forward,
// dL/da(t)[r] h(t-1)[c] backward; both sums are dL/dW[r, c]. The numbers are explain/forward.py's.
const FWD = D.forward;                                    // null for a stack: one layer only
function fwdEntryName(e) {
  const [r, c] = FWD.entries[e], g = Math.floor(r / D.model.n_hidden), u = r % D.model.n_hidden;
  return `W[${LETTERS.length > 1 ? LETTERS[g] + " " : ""}unit ${u + 1}, unit ${c + 1}]`;
}
// The entry's place in the page's sliced W (the first units of every gate block are shown).
function fwdGradPath(e) {
  const [r, c] = FWD.entries[e], H = D.model.n_hidden;
  return `grads.W.${Math.floor(r / H) * HS + (r % H)}.${c}`;
}

function drawForward() {
  const svg = $("fwd"), e = S.entry, { fwdUpTo, bwdFrom } = progress(stages[S.i]);
  svg.replaceChildren();
  defs(svg);
  const sens = FWD.sens[e], names = FWD.states, scale = maxAbs([sens]);
  const rows = names.length * HS, cw = Math.min(44, 660 / T), rh = Math.min(16, 250 / rows), x0 = 150, y0 = 56;
  const muted = { "font-size": 10, fill: "#5b6472" };
  el("text", { x: 16, y: 22, "font-size": 13, "font-weight": 600 }, svg,
     `\u2202z(t)/\u2202${fwdEntryName(e)}, carried forward: M(t) = J(t) M(t\u22121) + I(t)`);
  el("text", { x: 16, y: 40, ...muted }, svg,
     "one row per state entry, one column per step; filled as the forward stages reach it");
  names.forEach((name, s) => HU.forEach((u, k) => {
    const y = y0 + (s * HS + k) * rh;
    el("text", { x: x0 - 6, y: y + rh * 0.75, "text-anchor": "end", ...muted }, svg, `${name}(t) unit ${u + 1}`);
    for (let t = 0; t < T; t++) {
      const v = sens[t][s][k], shown = t < fwdUpTo;
      el("rect", { class: "cell", x: x0 + t * cw, y, width: cw - 1, height: rh - 1, fill: shown ? div(v, scale) : "#f3f4f6",
                   "data-tip": shown ? `\u2202${name}(${t + 1})[unit ${u + 1}]/\u2202${fwdEntryName(e)} = ${v}` : "not yet carried forward" }, svg);
    }
  }));
  for (let t = 0; t < T; t++) {
    el("text", { x: x0 + t * cw + cw / 2, y: y0 + rows * rh + 12, "text-anchor": "middle", ...muted }, svg, t + 1);
  }
  legend(svg, x0, y0 + rows * rh + 38, "gDiv", "sensitivity", format(-scale, "e1"), format(scale, "e1"));
  // Two rows of per-step terms and their running sums: forward (left to right), backward (right to left).
  const ys = y0 + rows * rh + 104, fmt = precision([...FWD.fwd[e], ...FWD.bwd[e], ...FWD.fwd_cum[e], ...FWD.bwd_cum[e]]);
  const rowsOf = [["forward term", "fwd", (t) => t < fwdUpTo],
                  ["forward, \u03a3 so far", "fwd_cum", (t) => t < fwdUpTo],
                  ["backward term", "bwd", (t) => t >= bwdFrom],
                  ["backward, \u03a3 from the end", "bwd_cum", (t) => t >= bwdFrom]];
  el("text", { x: 16, y: ys - 18, ...muted }, svg,
     "forward term: \u2202L(t)/\u2202z(t) \u00b7 M(t) for the entry (bptt.rtrl); backward term: \u2202L/\u2202a(t)[r] h(t\u22121)[c] (BPTT)");
  rowsOf.forEach(([label, key, visible], i) => {
    const y = ys + i * 20 + (i >= 2 ? 10 : 0);
    el("text", { x: x0 - 6, y, "text-anchor": "end", "font-size": 10, fill: i % 2 ? "#5b6472" : "#1d2430" }, svg, label);
    for (let t = 0; t < T; t++) {
      if (!visible(t)) continue;
      const txt = el("text", { x: x0 + t * cw + cw / 2, y, "text-anchor": "middle", "font-size": Math.min(9, cw / 5),
                               fill: key.startsWith("bwd") ? "#c0392b" : "#1d2430",
                               "data-path": `forward.${key}.${e}.${t}`, "data-fmt": fmt }, svg, format(FWD[key][e][t], fmt));
      txt.setAttribute("class", "fwd-term");
    }
  });
  const done = fwdUpTo === T && bwdFrom === 0, yt = ys + 110;
  if (fwdUpTo === T) {
    el("text", { x: x0, y: yt, "font-size": 12 }, svg, "forward, summed: ");
    el("text", { x: x0 + 120, y: yt, "font-size": 12, "font-weight": 600, "data-path": `forward.fwd_sum.${e}`, "data-fmt": "e6" }, svg, format(FWD.fwd_sum[e], "e6"));
  }
  if (bwdFrom === 0) {
    el("text", { x: x0 + 300, y: yt, "font-size": 12 }, svg, "backward, summed: ");
    el("text", { x: x0 + 425, y: yt, "font-size": 12, "font-weight": 600, fill: "#c0392b", "data-path": `forward.bwd_sum.${e}`, "data-fmt": "e6" }, svg, format(FWD.bwd_sum[e], "e6"));
  }
  if (done) el("text", { x: x0, y: yt + 20, ...muted }, svg, "the same number both ways: dL/dW for this entry, without and with a backward pass");
}

function panelForward() {
  const e = S.entry, st = stages[S.i], [r, c] = FWD.entries[e], u = r % D.model.n_hidden;
  const options = FWD.entries.map((_, k) => `<option value="${k}"${k === e ? " selected" : ""}>${fwdEntryName(k)}</option>`).join("");
  let now = "";
  if (st.kind === "fwd") {
    now = `<p>Step t = ${st.t + 1}: \u2202h(t)[unit ${u + 1}]/\u2202${fwdEntryName(e)} = ${num(`forward.sens.${e}.${st.t}.0.${u}`)};
      this step adds ${num(`forward.fwd.${e}.${st.t}`)} forward (running sum ${num(`forward.fwd_cum.${e}.${st.t}`)}).</p>`;
  } else if (st.kind === "bwd") {
    now = `<p>Step t = ${st.t + 1}: backward, this step adds ${num(`forward.bwd.${e}.${st.t}`)} (running sum from the end
      ${num(`forward.bwd_cum.${e}.${st.t}`)}).</p>`;
  } else if (st.kind === "sum" || st.kind === "update") {
    now = `<p class="big">forward ${num(`forward.fwd_sum.${e}`, "e6")} = backward ${num(`forward.bwd_sum.${e}`, "e6")}</p>
      <p>and the page's \u2202L/\u2202W for this entry: ${num(fwdGradPath(e), "e6")}.</p>`;
  }
  return `<h2>Forward mode: real-time recurrent learning</h2>
    <p>Choose an entry of W: <select id="fwd-entry">${options}</select></p>
    <p>Instead of storing the steps and walking back, carry forward how the state z(t) = [${FWD.states.join(", ")}](t) depends on
    the entry: its column of the influence matrix M(t) = \u2202z(t)/\u2202\u03b8.</p>
    <div class="eq">M(t) = J(t) M(t\u22121) + I(t), &nbsp; J(t) = \u2202z(t)/\u2202z(t\u22121)</div>
    <p>I(t) is the step's own effect: \u2202z(t)/\u2202a(t)[r] times h(t\u22121)[c], in the rows of the entry's unit.
    The loss of each step arrives with its gradient at once:</p>
    <div class="eq">\u2202L/\u2202W[r, c] = \u03a3<sub>t</sub> \u2202L(t)/\u2202z(t) M(t) = \u03a3<sub>t</sub> \u2202L/\u2202a(t)[r] h(t\u22121)[c]</div>
    <p>The first sum runs forward (bptt.rtrl), the second backward (BPTT); their terms differ step by step, their sums do not.
    Exact RTRL costs O(H<sup>4</sup>) per step for all of W, BPTT O(H<sup>2</sup>), but RTRL stores nothing of the past.</p>
    ${now}
    <p class="hint">Step with Next \u25b6: the forward stages fill the sensitivity left to right, the backward ones the red row right to left.</p>`;
}
function hookForward() {
  const pick = $("fwd-entry");
  if (pick) pick.addEventListener("change", () => { S.entry = +pick.value; render(); });
}
