// The stages, the page's state, the controls and the one render function.
const VIEW = { rnn: RNN_VIEW, lstm: LSTM_VIEW, gru: GRU_VIEW }[CELL];

// The stages in the shown direction's own order: forward from its first step to its last (the
// reverse direction's from T down to 1), backward the other way. Stage i is the same kind of
// stage in either direction, so switching direction keeps the place.
function stagesFor(rev) {
  const steps = [...Array(T).keys()], order = rev ? steps.slice().reverse() : steps;
  return [{ kind: "intro" }, ...order.map((t) => ({ kind: "fwd", t })), { kind: "loss" },
          ...order.slice().reverse().map((t) => ({ kind: "bwd", t })), { kind: "sum" }, { kind: "update" }];
}
// layer: the shown entry of D.layers (a stack shows one layer at a time, the top one first; a
// bidirectional layer one direction at a time); gate: the gate block the panel's tables show;
// col: the column the panel talks about (an encoder-decoder's parameters are its half's).
const S = { i: 0, sel: null, lag: false, fwd: false, entry: 0, lr: D.update.lrs.indexOf(D.update.lr),
            layer: D.layers.length - DIRS, gate: 0, col: 0 };
let stages = stagesFor(false);

// Short enough for the toolbar's fixed-width label at 1024 px.
function stageLabel(st) {
  switch (st.kind) {
    case "intro": return "The unfolded network";
    case "fwd": return `Forward \u00b7 ${SEQ ? stepName(st.t) : `step t = ${st.t + 1}`}`;
    case "loss": return "The loss L = \u03a3 L(t)";
    case "bwd": return `Backward \u00b7 ${SEQ ? stepName(st.t) : `step t = ${st.t + 1}`}`;
    case "sum": return "Sum over the steps";
    default: return "One update";
  }
}
// How far each phase has got: forward values exist for t < fwdUpTo, errors for t >= bwdFrom
// (the forward-mode view reads these); fwd(t), err(t) say it for the shown direction, whose
// reverse one runs forward from T and backward from 1; fwdAll: every step has run forward.
function progress(st) {
  const P = st.kind === "intro" ? { fwdUpTo: 0, bwdFrom: T } : st.kind === "fwd" ? { fwdUpTo: st.t + 1, bwdFrom: T }
    : st.kind === "loss" ? { fwdUpTo: T, bwdFrom: T } : st.kind === "bwd" ? { fwdUpTo: T, bwdFrom: st.t } : { fwdUpTo: T, bwdFrom: 0 };
  const rev = REV(), none = st.kind === "intro", fwdStage = st.kind === "fwd", bwdStage = st.kind === "bwd";
  const all = !none && !fwdStage, errs = !["intro", "fwd", "loss"].includes(st.kind);
  P.fwd = (t) => all || (fwdStage && (rev ? t >= st.t : t <= st.t));
  P.err = (t) => errs && (!bwdStage || (rev ? t <= st.t : t >= st.t));
  P.fwdAll = all;
  return P;
}

// Colour scales of the shown layer: its forward values (SV), its errors with the readout's (SE);
// one scale per parameter for its per-step contributions (SG) and one for its sum (SS), so steps
// compare; the layer's matrices (SP).
const SCALES = D.layers.map((L, i) => {
  const l = L.layer === undefined ? i : L.layer;
  const name = (b) => b + (l ? `_l${l}` : "") + (L.reverse ? "_reverse" : "");
  const P = (b) => D.params[SEQ ? "dec_" + name(b) : name(b)];
  const values = CELL === "rnn" ? [L.a, L.h] : CELL === "lstm" ? [L.s, L.h, L.gates.map((r) => block(r, 2))]
    : [L.h, L.gates.map((r) => block(r, 2))];
  const SG = {}, SS = {};
  for (const k in D.grads) { SG[k] = maxAbs([D.per_step[k]]); SS[k] = maxAbs([D.grads[k]]); }
  // The simple RNN's top layer shares one error scale with the readout (its dL/dh is V^T dL/do
  // plus a recurrent term, of the same order); a gate's or a lower layer's errors are often
  // orders smaller, so they get their own and dL/do(t) keeps its own (SO).
  const shared = CELL === "rnn" && l === NL - 1;
  const SE = shared ? maxAbs([D.errors.o, Object.values(L.errors)]) : maxAbs([Object.values(L.errors)]);
  const SP = maxAbs([P("U"), P("W"), D.params.V, ...(SEQ ? [D.params["enc_" + name("U")], D.params["enc_" + name("W")]] : [])]);
  return { SV: maxAbs(values), SE, SO: shared ? SE : maxAbs([D.errors.o]), SG, SS, SP };
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
  S.col = stages[S.i].t === undefined ? S.col : stages[S.i].t;
  S.sel = null;
  fixLabelWidth();
render();
}
function render() {
  const st = stages[S.i];
  if (st.t !== undefined) S.col = S.sel ? S.sel.t : st.t;
  $("slider").value = S.i;
  $("stage-label").textContent = `${S.i + 1}/${stages.length} \u00b7 ${stageLabel(st)}`;
  $("lag-toggle").hidden = !D.lag;                          // the lag profile follows one direction
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
  $("panel").innerHTML = inTime(html);
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
  const layers = (NL > 1 ? `${NL} layers of ` : "") + (DIRS > 1 ? "bidirectional, " : "");
  const task = SEQ ? `an encoder-decoder${NL > 1 ? ` of ${NL} layers each` : ""}: the encoder reads \u201c${escapeHtml(D.text)}\u201d (${TX} steps), the decoder writes it
    reversed (${T - TX} steps, teacher-forced)` : `It reads \u201c${escapeHtml(D.text)}\u201d and predicts each next character: ${T} steps`;
  let s = `${VIEW.about}: ${SEQ ? task + "; " : layers}${m.n_hidden} hidden units${VIEW.unitsNote}, a vocabulary of
    ${m.n_in} characters, ${origin}. ${SEQ ? "E" : task + ", e"}very number computed by bptt.`;
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
// A stack shows one layer at a time, a bidirectional layer one direction at a time: the selector
// lists them, top first.
if (D.layers.length > 1) {
  for (let l = NL - 1; l >= 0; l--) {
    for (let d = 0; d < DIRS; d++) $("layer").add(new Option(layerName(l * DIRS + d).slice("layer ".length), String(l * DIRS + d)));
  }
  $("layer").value = String(S.layer);
  $("layer").addEventListener("change", () => {
    S.layer = +$("layer").value; S.sel = null;
    stages = stagesFor(REV());
    go(S.i);
  });
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
