// The stages, the page's state, the controls and the one render function.
const VIEW = { rnn: RNN_VIEW, lstm: LSTM_VIEW, gru: GRU_VIEW }[CELL];

const stages = [{ kind: "intro" }];
for (let t = 0; t < T; t++) stages.push({ kind: "fwd", t });
stages.push({ kind: "loss" });
for (let t = T - 1; t >= 0; t--) stages.push({ kind: "bwd", t });
stages.push({ kind: "sum" }, { kind: "update" });
// layer: the layer shown (a stack shows one at a time, the top one first); gate: the gate block
// the panel's tables show.
const S = { i: 0, sel: null, lag: false, fwd: false, entry: 0, lr: D.update.lrs.indexOf(D.update.lr), layer: NL - 1, gate: 0 };

// Short enough for the toolbar's fixed-width label at 1024 px.
function stageLabel(st) {
  switch (st.kind) {
    case "intro": return "The unfolded network";
    case "fwd": return `Forward \u00b7 step t = ${st.t + 1}`;
    case "loss": return "The loss L = \u03a3 L(t)";
    case "bwd": return `Backward \u00b7 step t = ${st.t + 1}`;
    case "sum": return "Sum over the steps";
    default: return "One update";
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

// Colour scales of the shown layer: its forward values (SV), its errors with the readout's (SE);
// one scale per parameter for its per-step contributions (SG) and one for its sum (SS), so steps
// compare; the layer's matrices (SP).
const SCALES = D.layers.map((L, l) => {
  const P = (b) => D.params[b + (l ? `_l${l}` : "")];
  const values = CELL === "rnn" ? [L.a, L.h] : CELL === "lstm" ? [L.s, L.h, L.gates.map((r) => block(r, 2))]
    : [L.h, L.gates.map((r) => block(r, 2))];
  const SG = {}, SS = {};
  for (const k in D.grads) { SG[k] = maxAbs([D.per_step[k]]); SS[k] = maxAbs([D.grads[k]]); }
  // The simple RNN's top layer shares one error scale with the readout (its dL/dh is V^T dL/do
  // plus a recurrent term, of the same order); a gate's or a lower layer's errors are often
  // orders smaller, so they get their own and dL/do(t) keeps its own (SO).
  const shared = CELL === "rnn" && l === NL - 1;
  const SE = shared ? maxAbs([D.errors.o, Object.values(L.errors)]) : maxAbs([Object.values(L.errors)]);
  return { SV: maxAbs(values), SE, SO: shared ? SE : maxAbs([D.errors.o]), SG, SS, SP: maxAbs([P("U"), P("W"), D.params.V]) };
});
const scales = () => SCALES[S.layer];

function select(sel) {
  const same = S.sel && JSON.stringify(S.sel) === JSON.stringify(sel);
  S.sel = same ? null : sel;
  // An error at a gate's pre-activation opens that gate's table.
  if (S.sel && S.sel.kind === "error" && VIEW.gateOf && VIEW.gateOf(S.sel.q) >= 0) S.gate = VIEW.gateOf(S.sel.q);
  fixLabelWidth();
render();
}
function go(i) {
  S.i = Math.max(0, Math.min(stages.length - 1, i));
  S.sel = null;
  fixLabelWidth();
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
  $("fwd-toggle").setAttribute("aria-pressed", String(S.fwd));
  $("net").toggleAttribute("hidden", S.lag || S.fwd); $("lag").toggleAttribute("hidden", !S.lag);  // SVG elements have no .hidden property
  $("fwd").toggleAttribute("hidden", !S.fwd);
  if (S.fwd) { drawForward(); $("panel").innerHTML = panelForward(); fitPrecision($("panel")); hookForward(); return; }
  if (S.lag) { drawLag(); $("panel").innerHTML = panelLag(); fitPrecision($("panel")); return; }
  drawNet();
  let html = "";
  if (S.sel) html += panelSelection(S.sel);
  if (!S.sel || S.sel.kind === "contrib") {
    html += { intro: panelIntro, fwd: () => panelFwd(st.t), loss: panelLoss, bwd: () => panelBwd(st.t),
              sum: panelSum, update: panelUpdate }[st.kind]();
  }
  $("panel").innerHTML = html;
  fitPrecision($("panel"));
  const un = $("unselect");
  if (un) un.addEventListener("click", () => select(S.sel));
  for (const b of $("panel").querySelectorAll(".gate-tab")) {
    b.addEventListener("click", () => { S.gate = +b.dataset.gate; render(); });
  }
}

function about() {
  const m = D.model;
  const origin = m.source ? `weights from ${escapeHtml(m.source)}` : m.seed === null ? "weights given in Python" : `random weights (seed ${m.seed})`;
  const layers = NL > 1 ? `${NL} layers of ` : "";
  let s = `${VIEW.about}: ${layers}${m.n_hidden} hidden units${VIEW.unitsNote}, a vocabulary of
    ${m.n_in} characters, ${origin}. It reads \u201c${escapeHtml(D.text)}\u201d and predicts each next character:
    ${T} steps, every number computed by bptt.`;
  if (HS < m.n_hidden || OS < m.n_out) {
    s += ` <span class="warn">Showing the first ${HS} of ${m.n_hidden} hidden units` +
         (OS < m.n_out ? ` and the ${OS} output units of the text's characters out of ${m.n_out}` : "") + ".</span>";
  }
  return s;
}

// The stage label keeps the width of the longest one, so that the controls after it never move.
function fixLabelWidth() {
  const label = $("stage-label");
  let widest = 0;
  label.style.width = "auto";
  stages.forEach((st, i) => {
    label.textContent = `${i + 1}/${stages.length} \u00b7 ${stageLabel(st)}`;
    widest = Math.max(widest, label.getBoundingClientRect().width);
  });
  label.style.width = `${Math.ceil(widest) + 2}px`;
}

$("about").innerHTML = about();
$("slider").max = stages.length - 1;
D.update.lrs.forEach((v, k) => { const o = new Option(String(v), String(k)); $("lr").add(o); });
$("lr").value = String(S.lr);
$("lr").addEventListener("change", () => { S.lr = +$("lr").value; render(); });
// A stack shows one layer at a time: the selector lists them, top first.
if (NL > 1) {
  for (let l = NL - 1; l >= 0; l--) $("layer").add(new Option(layerName(l).slice("layer ".length), String(l)));
  $("layer").value = String(S.layer);
  $("layer").addEventListener("change", () => { S.layer = +$("layer").value; S.sel = null; render(); });
} else {
  $("layer-label").hidden = true;
}
$("first").addEventListener("click", () => go(0));
$("prev").addEventListener("click", () => go(S.i - 1));
$("next").addEventListener("click", () => go(S.i + 1));
$("last").addEventListener("click", () => go(stages.length - 1));
$("slider").addEventListener("input", () => go(+$("slider").value));
$("lag-toggle").addEventListener("click", () => { S.lag = !S.lag; S.fwd = false; S.sel = null; render(); });
$("fwd-toggle").addEventListener("click", () => { S.fwd = !S.fwd; S.lag = false; S.sel = null; render(); });
$("fwd-toggle").hidden = !FWD;                              // forward mode follows one layer
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
fixLabelWidth();
render();
