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
    ${NL > 1 && !SEQ ? `<p>${NL} layers are stacked, numbered from 0 as bptt's parameters are: layer 0 (U, W, b) reads x(t);
    layer <i>l</i> (U_l<i>l</i>, W_l<i>l</i>, b_l<i>l</i>) reads h<sub><i>l</i>\u22121</sub>(t), the h(t) of layer <i>l</i> \u2212 1; the
    readout reads the top layer, layer ${NL - 1}. Choose the layer shown above.</p>` : ""}
    ${DIRS > 1 ? `<p><b>Bidirectional</b> (<i>Deep Learning</i> §10.3): every layer runs twice, a forward direction
    h→(t) from h→(t−1) and a reverse one h←(t) from h←(t+1) (parameters U_reverse, W_reverse, b_reverse), which
    starts at the last step. What reads the layer reads [h→(t); h←(t)]: o(t) = c + V→ h→(t) + V← h←(t), V = [V→ V←],
    so ŷ(t) is known once both have run. Backward, the reverse direction's errors flow from the first step to the last.
    Choose the direction shown above.</p>` : ""}
    ${SEQ ? `<p><b>An encoder-decoder</b> (<i>Deep Learning</i> §10.4): the encoder (enc_U, enc_W, enc_b) reads
    the text, “${escapeHtml(D.text)}”, and has no readout; its last state is the <b>context C</b>, the decoder's initial
    state. The decoder (dec_U, dec_W, dec_b) is taught to write the text reversed and, trained with <b>teacher forcing</b>
    (§10.2.1), reads the previous <i>target</i> character y(t−1) (first the start token ${chOf(D.vocab.length - 1)}),
    not its own guess. Backward, the decoder's errors reach C, and ∂L/∂C flows on into the encoder.</p>` : ""}
    ${SEQ && NL > 1 ? `<p>Each half stacks ${NL} layers, numbered from 0 as bptt's parameters are: the encoder's layer 0
    (enc_U, enc_W, enc_b) reads x(t), its layer <i>l</i> (enc_U_l<i>l</i>, enc_W_l<i>l</i>, enc_b_l<i>l</i>) the h(t) of its
    layer <i>l</i> \u2212 1; the decoder's (dec_\u2026) likewise, from y(t\u22121) up, and the readout reads its top layer,
    layer ${NL - 1}. The context is one per layer: the encoder's layer <i>l</i> hands its last states, C<sub><i>l</i></sub>,
    to the decoder's layer <i>l</i> as that layer's initial states, and backward \u2202L/\u2202C<sub><i>l</i></sub> flows from
    the decoder's layer <i>l</i> into the encoder's. Choose the layer shown above.</p>` : ""}
    <p>The same <b>U, W, V, b, c</b> serve every step. Forward runs left to right; back-propagation through time
    then runs right to left: the errors ${VIEW.errorWords} depend on t, each step adds
    its contribution to every gradient, and their sum updates the shared parameters <i>once</i>.</p>
    <p class="hint">Next \u25b6 or the \u2192 key steps forward; \u2190 steps back; Home/End jump. Text: \u201c${escapeHtml(D.text)}\u201d,
    ${T} steps, h(0) = 0.</p>`;
}
// The decoder's first step starts from the context, the encoder's last state.
function contextTable(which) {
  const P = ctxPath(which), names = Object.keys(get(P)), C = ctxName();
  let rows = "";
  HU.forEach((u, j) => { rows += `<tr><td>${u + 1}</td>${names.map((n) => `<td>${num(`${P}.${n}.${j}`)}</td>`).join("")}</tr>`; });
  const head = names.map((n) => `<th>${which === "context" ? `${C}: ${n}` : `∂L/∂${C}: ${n}`}</th>`).join("");
  return `<table class="nums"><tr><th>unit</th>${head}</tr>${rows}</table>`;
}
function panelFwd(t) {
  const yId = D.y[t];
  const what = SEQ && t >= TX ? (t === TX ? "the start token" : `the previous target '${chIn(t)}'`) : `'${chIn(t)}'`;
  const head = `<h2>Forward, ${SEQ ? (t < TX ? "encoder" : "decoder") + " step " + stepName(t).split(" ")[1] : `step t = ${t + 1}`}: reading ${what}${layerNote()}</h2>`;
  const context = SEQ && t === TX ? `<h3>${NL > 1 ? `The context ${ctxName()}: the last state of the encoder's layer ${LAYER()} starts the decoder's`
    : "The context C: the encoder's last state starts the decoder"}</h3>
    <div class="eq">${Object.keys(get(ctxPath("context"))).map((n) => `${n}(t−1) = C<sub>${NL > 1 ? `${LAYER()},${n}` : n}</sub> = ${n}<sub>enc</sub>(${TX})`).join(", ")}</div>${contextTable("context")}
    <p class="hint">Teacher forcing: the decoder reads the start token, then at each step the previous target, whatever it guessed.</p>` : "";
  if (!hasOut(t)) {
    return `${head}${VIEW.panelFwd(t)}<p class="hint">The encoder has no readout: its states only carry the text forward${t === TX - 1 ? `, and this last one is the context ${ctxName()} that starts the decoder${NL > 1 ? `'s layer ${LAYER()}` : ""}` : ""}.</p>`;
  }
  if (DIRS > 1) {
    return `${head}${VIEW.panelFwd(t)}<p class="hint">ŷ(t) = softmax(c + V→ h→(t) + V← h←(t)) needs both directions: it is computed once
      the forward direction has run from the first step and the reverse one from the last (the loss stage).</p>`;
  }
  const top = D.yhat[t].map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  return `${head}${context}
    ${VIEW.panelFwd(t)}
    <div class="eq">\u0177(t) = softmax(c + V h(t))<span class="no">10.10\u201310.11</span></div>
    <p>Top guesses: ${top.map(([, k]) => `'${chOf(k)}' ${num(`yhat.${t}.${k}`, "p1")}%`).join(", ")}</p>
    <div class="eq">L(t) = \u2212log \u0177(t)[y(t) = '${chOf(yId)}'] = \u2212log ${num(`yhat.${t}.${yId}`, "f4")} = <b>${num(`losses.${t}`)}</b></div>`;
}
function panelLoss() {
  const steps = D.losses.map((v, t) => t).filter((t) => D.losses[t] !== null);
  const terms = steps.map((t) => num(`losses.${t}`)).join(" + ");
  return `<h2>The loss of the whole sequence</h2>
    <div class="eq">L = \u03a3<sub>t</sub> L(t)<span class="no">10.12\u201310.14</span></div>
    <p>${terms}</p><p class="big">L = ${num("loss", "f4")}</p>
    <p>A model that guessed uniformly over ${D.vocab.length} characters would score ${steps.length} \u00d7 log ${D.vocab.length}
    = ${(steps.length * Math.log(D.vocab.length)).toFixed(3)}.</p>
    <p class="hint">Next: back-propagation through time, ${REV() ? "for the reverse direction from the first step to the last (its own steps backwards)" : SEQ ? "from the decoder's last step to its first, through the context C into the encoder" : "from the last step to the first"}. Each step's errors need the
    errors of the steps after it${REV() ? " in its own order" : ""}.</p>`;
}
function panelBwd(t) {
  const yId = D.y[t], xi = OU.indexOf(D.x[t]), sc = scales(), U = pname("U"), W = pname("W"), out = hasOut(t);
  const uMap = LAYER() > 0 ? heat(D.per_step[U][t], sc.SG[U], `\u2202${U}(${t + 1}) = \u2202L/\u2202a(t) ${inputName()}\u1d40`, rowName, inName, mapCell(12))
    : xi >= 0 ? heat(col(D.per_step[U][t].map((r) => r[xi])), sc.SG[U], `\u2202${U}(${t + 1}), column '${chIn(t)}'`, rowName, () => `'${chIn(t)}'`, mapCell(12)) : "";
  const vStep = isTop() && out ? heat(D.per_step.V[t].map(dirCols), sc.SG.V, `\u2202V(${t + 1}) = \u2202L/\u2202o(t) h(t)\u1d40${DIRS > 1 ? `, V${arrow2(REV())}'s columns` : ""}`, outName, unitName, 12) : "";
  const readout = out ? `<div class="eq">\u2202L/\u2202o(t) = \u0177(t) \u2212 1<sub>y(t)</sub><span class="no">10.18</span></div>
    <p>at the target '${chOf(yId)}': ${num(`yhat.${t}.${yId}`, "f4")} \u2212 1 = ${num(`errors.o.${t}.${yId}`, "f4")}; elsewhere \u0177(t) itself.</p>`
    : `<p class="hint">The encoder has no readout: its errors come only from ${isTop() ? "" : "the layer above and "}the step after it${t === TX - 1 ? ", the decoder's first" : ""}.</p>`;
  // The encoder's last step receives what the decoder's backward sends through the context.
  const C = ctxName(), half = (w) => (NL > 1 ? `the ${w}'s layer ${LAYER()}` : `the ${w}`);
  const context = SEQ && t === TX - 1 ? `<h3>What ${half("decoder")} sends back to ${half("encoder")}: \u2202L/\u2202${C}</h3>
    <p>The first step of ${half("decoder")} read ${C} as its h(t\u22121)${get(ctxPath("dcontext")).s ? " and s(t\u22121)" : ""}; its backward ends there, and what reaches ${C}
    is the error at the last state of ${half("encoder")}${isTop() ? "" : ", on top of what the layer above sends it"}.</p>${contextTable("dcontext")}` : "";
  return `<h2>Backward, ${SEQ ? (t < TX ? "encoder" : "decoder") + " step " + stepName(t).split(" ")[1] : `step t = ${t + 1}`}${layerNote()}</h2>
    ${readout}${context}
    ${VIEW.panelBwd(t)}
    <h3>This step's contributions (summed later)</h3>
    <div class="maps">${heat(D.per_step[W][t], sc.SG[W], `\u2202${W}(${t + 1}) = ${VIEW.contribWhat().W}`, rowName, unitName, mapCell(12))}
    ${vStep}
    ${uMap}</div>
    <p class="hint">Click a U/W${isTop() && out ? "/V" : ""} chip under any revealed column to frame every error that contribution needs.</p>`;
}
// The columns of an upper layer's U: the layer below's units (both directions' for a bidirectional one).
const inName = (j) => (DIRS > 1 ? `${j < HS ? "forward" : "reverse"} ${unitName(j % HS)}` : unitName(j));
// The steps whose contributions a parameter of the panel's half sums (an encoder-decoder's half).
const halfSteps = () => [...Array(T).keys()].filter((t) => !SEQ || (t < TX) === (S.col < TX));
function panelSum() {
  if (SEQ) {   // the decoder's sums (with the readout's), then the encoder's
    const keep = S.col;
    S.col = TX; let html = sumOf(true);
    S.col = 0; html += sumOf(false);
    S.col = keep;
    return html;
  }
  return sumOf(true);
}
function sumOf(readout) {
  const sc = scales(), U = pname("U"), W = pname("W"), b = pname("b");
  const [i, j] = argmaxAbs(D.grads[W]);
  const terms = halfSteps().map((t) => num(`per_step.${W}.${t}.${i}.${j}`)).join(" + ");
  const gV = D.grads.V.map(dirCols), off = DIRS > 1 && REV() ? HS : 0;
  const [vi, vj] = argmaxAbs(gV);
  const bhn = D.grads[pname("b_hn")] ? heat(col(D.grads[pname("b_hn")]), maxAbs([D.grads[pname("b_hn")]]), `\u2202L/\u2202${pname("b_hn")}`, unitName, () => "", 11) : "";
  const out = readout ? `<div class="eq">\u2202L/\u2202V = \u03a3<sub>t</sub> \u2202L/\u2202o(t) h(t)\u1d40<span class="no">10.24</span></div>
    <div class="eq">\u2202L/\u2202c = \u03a3<sub>t</sub> \u2202L/\u2202o(t)<span class="no">10.22</span></div>` : "";
  return `<h2>Sum over the steps: one gradient per parameter${layerNote()}</h2>
    ${VIEW.sumEqs()}
    ${out}
    <p>The largest entry, ${W}[${rowName(i)}, ${unitName(j)}]:</p>
    <p>${terms} = <b>${num(`grads.${W}.${i}.${j}`)}</b></p>
    ${readout ? `<p>V['${chOf(OU[vi])}', ${DIRS > 1 ? (REV() ? "reverse " : "forward ") : ""}unit ${HU[vj] + 1}] = <b>${num(`grads.V.${vi}.${vj + off}`)}</b></p>` : ""}
    <div class="maps">${heat(D.grads[U], sc.SS[U], `\u2202L/\u2202${U}`, rowName, LAYER() ? inName : SEQ && S.col < TX ? (k) => `'${ch(D.in_vocab[k])}'` : outName, mapCell(11))}${heat(D.grads[W], sc.SS[W], `\u2202L/\u2202${W}`, rowName, unitName, mapCell(11))}
    ${readout ? heat(gV, sc.SS.V, `\u2202L/\u2202V${DIRS > 1 ? arrow2(REV()) : ""}`, outName, unitName, 11) : ""}${heat(col(D.grads[b]), sc.SS[b], `\u2202L/\u2202${b}`, rowName, () => "", mapCell(11))}
    ${bhn}${readout ? heat(col(D.grads.c), sc.SS.c, "\u2202L/\u2202c", outName, () => "", 11) : ""}</div>`;
}
function panelUpdate() {
  const keep = S.col;
  if (SEQ) S.col = TX;                                  // the decoder's W as the example
  const lr = D.update.lrs[S.lr], after = D.update.loss_after[S.lr], W = pname("W"), sc = scales();
  const [i, j] = argmaxAbs(D.grads[W]);
  const newW = D.params[W].map((r, a) => r.map((v, b) => v - lr * D.grads[W][a][b]));
  const upd = `<span class="n" data-path="params.${W}.${i}.${j}" data-minus="grads.${W}.${i}.${j}" data-fmt="f4">${format(newW[i][j], "f4")}</span>`;
  const html = `<h2>One update of the shared parameters</h2>
    <div class="eq">\u03b8 \u2190 \u03b8 \u2212 \u03b7 \u2202L/\u2202\u03b8 &nbsp; for \u03b8 = ${Object.keys(D.params).join(", ")}</div>
    <p>Every step contributed, but the parameters change <b>once</b>, with \u03b7 = <span id="lr-shown">${lr}</span> (choose it above).</p>
    <p>${W}[${rowName(i)}, ${unitName(j)}]: ${num(`params.${W}.${i}.${j}`, "f4")} \u2212 ${lr} \u00d7 ${num(`grads.${W}.${i}.${j}`, "f4")} = <b>${upd}</b></p>
    <p class="big">L: ${num("loss", "f4")} \u2192 <span class="n" data-path="update.loss_after.${S.lr}" data-fmt="f4">${format(after, "f4")}</span></p>
    <p class="hint">The loss after the update was computed by bptt's own forward pass for each offered \u03b7.
    ${after < D.loss ? "It went down." : "It went up: this step size overshoots."}</p>
    <div class="maps">${heat(D.params[W], sc.SP, `${W} before`, rowName, unitName, mapCell(12))}${heat(D.grads[W].map((r) => r.map((g) => -lr * g)), maxAbs([D.grads[W]]) * lr, `\u2212\u03b7 \u2202L/\u2202${W} (own scale)`, rowName, unitName, mapCell(12))}${heat(newW, sc.SP, `${W} after`, rowName, unitName, mapCell(12))}</div>`;
  S.col = keep;
  return html;
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
