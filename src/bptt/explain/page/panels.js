// The side panel: the equations of the stage, with the numbers substituted (each carries its
// data-path). The cell's own equations and tables come from its view (rnn.js, lstm.js, gru.js).
const LETTERS = { rnn: [""], lstm: ["i", "f", "g", "o"], gru: ["r", "z", "n"] }[CELL];
// Rows of a gate-stacked matrix (G*HS) are named by gate and unit.
const rowName = (i) => (LETTERS.length > 1 ? `${LETTERS[Math.floor(i / HS)]} ${unitName(i % HS)}` : unitName(i));
const mapCell = (big) => (LETTERS.length > 1 ? 6 : big);

function panelIntro() {
  return `<h2>The unfolded network${layerNote()}</h2>
    <p>One column per time step. The model reads <b>x(t)</b> (a character, bottom), ${VIEW.stateWords}, and predicts the next character <b>\u0177(t)</b> (top).
    Its loss at each step is <b>L(t)</b> = \u2212log of the probability it gave the true next character y(t).</p>
    ${VIEW.introEqs()}
    <div class="eq">o(t) = c + V h(t)<span class="no">10.10</span></div>
    <div class="eq">\u0177(t) = softmax(o(t))<span class="no">10.11</span></div>
    ${NL > 1 ? `<p>${NL} layers are stacked, numbered from 0 as bptt's parameters are: layer 0 (U, W, b) reads x(t);
    layer <i>l</i> (U_l<i>l</i>, W_l<i>l</i>, b_l<i>l</i>) reads h<sub><i>l</i>\u22121</sub>(t), the h(t) of layer <i>l</i> \u2212 1; the
    readout reads the top layer, layer ${NL - 1}. Choose the layer shown above.</p>` : ""}
    <p>The same <b>U, W, V, b, c</b> serve every step. Forward runs left to right; back-propagation through time
    then runs right to left: the errors ${VIEW.errorWords} depend on t, each step adds
    its contribution to every gradient, and their sum updates the shared parameters <i>once</i>.</p>
    <p class="hint">Next \u25b6 or the \u2192 key steps forward; \u2190 steps back; Home/End jump. Text: \u201c${escapeHtml(D.text)}\u201d,
    ${T} steps, h(0) = 0.</p>`;
}
function panelFwd(t) {
  const yId = D.y[t];
  const top = D.yhat[t].map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  return `<h2>Forward, step t = ${t + 1}: reading '${chOf(D.x[t])}'${layerNote()}</h2>
    ${VIEW.panelFwd(t)}
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
function panelBwd(t) {
  const yId = D.y[t], xi = OU.indexOf(D.x[t]), sc = scales(), U = pname("U"), W = pname("W");
  const uMap = S.layer > 0 ? heat(D.per_step[U][t], sc.SG[U], `\u2202${U}(${t + 1}) = \u2202L/\u2202a(t) ${inputName()}\u1d40`, rowName, unitName, mapCell(12))
    : xi >= 0 ? heat(col(D.per_step.U[t].map((r) => r[xi])), sc.SG.U, `\u2202U(${t + 1}), column '${chOf(D.x[t])}'`, rowName, () => `'${chOf(D.x[t])}'`, mapCell(12)) : "";
  return `<h2>Backward, step t = ${t + 1}${layerNote()}</h2>
    <div class="eq">\u2202L/\u2202o(t) = \u0177(t) \u2212 1<sub>y(t)</sub><span class="no">10.18</span></div>
    <p>at the target '${chOf(yId)}': ${num(`yhat.${t}.${yId}`, "f4")} \u2212 1 = ${num(`errors.o.${t}.${yId}`, "f4")}; elsewhere \u0177(t) itself.</p>
    ${VIEW.panelBwd(t)}
    <h3>This step's contributions (summed later)</h3>
    <div class="maps">${heat(D.per_step[W][t], sc.SG[W], `\u2202${W}(${t + 1}) = ${VIEW.contribWhat().W}`, rowName, unitName, mapCell(12))}
    ${isTop() ? heat(D.per_step.V[t], sc.SG.V, `\u2202V(${t + 1}) = \u2202L/\u2202o(t) h(t)\u1d40`, outName, unitName, 12) : ""}
    ${uMap}</div>
    <p class="hint">Click a U/W${isTop() ? "/V" : ""} chip under any revealed column to frame every error that contribution needs.</p>`;
}
function panelSum() {
  const sc = scales(), U = pname("U"), W = pname("W"), b = pname("b");
  const [i, j] = argmaxAbs(D.grads[W]);
  const terms = D.per_step[W].map((_, t) => num(`per_step.${W}.${t}.${i}.${j}`)).join(" + ");
  const [vi, vj] = argmaxAbs(D.grads.V);
  const bhn = D.grads[pname("b_hn")] ? heat(col(D.grads[pname("b_hn")]), maxAbs([D.grads[pname("b_hn")]]), `\u2202L/\u2202${pname("b_hn")}`, unitName, () => "", 11) : "";
  return `<h2>Sum over the steps: one gradient per parameter${layerNote()}</h2>
    ${VIEW.sumEqs()}
    <div class="eq">\u2202L/\u2202V = \u03a3<sub>t</sub> \u2202L/\u2202o(t) h(t)\u1d40<span class="no">10.24</span></div>
    <div class="eq">\u2202L/\u2202c = \u03a3<sub>t</sub> \u2202L/\u2202o(t)<span class="no">10.22</span></div>
    <p>The largest entry, ${W}[${rowName(i)}, ${unitName(j)}]:</p>
    <p>${terms} = <b>${num(`grads.${W}.${i}.${j}`)}</b></p>
    <p>V['${chOf(OU[vi])}', unit ${HU[vj] + 1}] = <b>${num(`grads.V.${vi}.${vj}`)}</b></p>
    <div class="maps">${heat(D.grads[U], sc.SS[U], `\u2202L/\u2202${U}`, rowName, S.layer ? unitName : outName, mapCell(11))}${heat(D.grads[W], sc.SS[W], `\u2202L/\u2202${W}`, rowName, unitName, mapCell(11))}
    ${heat(D.grads.V, sc.SS.V, "\u2202L/\u2202V", outName, unitName, 11)}${heat(col(D.grads[b]), sc.SS[b], `\u2202L/\u2202${b}`, rowName, () => "", mapCell(11))}
    ${bhn}${heat(col(D.grads.c), sc.SS.c, "\u2202L/\u2202c", outName, () => "", 11)}</div>`;
}
function panelUpdate() {
  const lr = D.update.lrs[S.lr], after = D.update.loss_after[S.lr], W = pname("W"), sc = scales();
  const [i, j] = argmaxAbs(D.grads[W]);
  const newW = D.params[W].map((r, a) => r.map((v, b) => v - lr * D.grads[W][a][b]));
  const upd = `<span class="n" data-path="params.${W}.${i}.${j}" data-minus="grads.${W}.${i}.${j}" data-fmt="f4">${format(newW[i][j], "f4")}</span>`;
  return `<h2>One update of the shared parameters</h2>
    <div class="eq">\u03b8 \u2190 \u03b8 \u2212 \u03b7 \u2202L/\u2202\u03b8 &nbsp; for \u03b8 = ${Object.keys(D.params).join(", ")}</div>
    <p>Every step contributed, but the parameters change <b>once</b>, with \u03b7 = <span id="lr-shown">${lr}</span> (choose it above).</p>
    <p>${W}[${rowName(i)}, ${unitName(j)}]: ${num(`params.${W}.${i}.${j}`, "f4")} \u2212 ${lr} \u00d7 ${num(`grads.${W}.${i}.${j}`, "f4")} = <b>${upd}</b></p>
    <p class="big">L: ${num("loss", "f4")} \u2192 <span class="n" data-path="update.loss_after.${S.lr}" data-fmt="f4">${format(after, "f4")}</span></p>
    <p class="hint">The loss after the update was computed by bptt's own forward pass for each offered \u03b7.
    ${after < D.loss ? "It went down." : "It went up: this step size overshoots."}</p>
    <div class="maps">${heat(D.params[W], sc.SP, `${W} before`, rowName, unitName, mapCell(12))}${heat(D.grads[W].map((r) => r.map((g) => -lr * g)), maxAbs([D.grads[W]]) * lr, `\u2212\u03b7 \u2202L/\u2202${W} (own scale)`, rowName, unitName, mapCell(12))}${heat(newW, sc.SP, `${W} after`, rowName, unitName, mapCell(12))}</div>`;
}
function panelSelection(sel) {
  const c = stepColour(sel.t), t = sel.t;
  let body;
  if (sel.kind === "contrib") {
    const what = { ...VIEW.contribWhat(), V: "\u2202L/\u2202o(t) h(t)\u1d40" }[sel.p];
    body = `<b>\u2202${sel.p}(${t + 1}) = ${what}</b><br>` + (sel.p === "V"
      ? "needs only this step's output error \u2202L/\u2202o(t): framed."
      : VIEW.contribChain(t));
  } else if (sel.q === "o") {
    body = `<b>\u2202L/\u2202o(${t + 1}) = \u0177(${t + 1}) \u2212 1<sub>y</sub></b>: at '${chOf(D.y[t])}' ${num(`yhat.${t}.${D.y[t]}`, "f4")} \u2212 1 = ${num(`errors.o.${t}.${D.y[t]}`, "f4")}`;
  } else {
    body = VIEW.errorInfo(sel.q, t);
  }
  return `<div class="sel" style="border-color:${c}"><button id="unselect" title="Esc">\u00d7 close</button>${body}</div>`;
}
function panelLag() {
  return `<h2>Gradient norms by lag</h2>
    <p>Send each step's loss L(t) back <i>alone</i> through the same ${VIEW.lagChain} and measure how much of it
    reaches each earlier hidden state h(k), t \u2212 k steps back: \u2016\u2202L(t)/\u2202h(k)\u2016${NL > 1 ? `, h of the top layer, layer ${NL - 1}` : ""}.</p>
    <p>Left: one row per loss step t, one column per hidden state h(k); right: the mean over t for each lag t \u2212 k, on a log
    scale. ${VIEW.lagWords}</p>
    <p>Summed over t, these vectors give exactly the \u2202L/\u2202h(k) of the backward pass.</p>
    <p class="hint">Lag 0: ${num("lag.by_lag.0", "e2")}; lag ${T - 1}: ${num(`lag.by_lag.${T - 1}`, "e2")}.</p>`;
}
