// The layer the page shows (a stack shows one at a time; a bidirectional layer one direction at a
// time) and what each layer reads and sends. S.layer indexes D.layers (layer 0 forward, layer 0
// reverse, layer 1 forward, ... for a bidirectional network); LAYER() is the shown layer's number.
const LD = () => D.layers[S.layer];
const LP = () => `layers.${S.layer}`;                    // data path of the shown layer
const LAYER = () => (LD().layer === undefined ? S.layer : LD().layer);
const REV = () => !!LD().reverse;                        // the reverse direction: its steps run T..1
const isTop = () => LAYER() === NL - 1;
// The library's parameter names: U, U_l1, U_reverse, U_l1_reverse; an encoder-decoder's enc_U,
// enc_U_l1 or dec_U, dec_U_l1, by the column the panel talks about (S.col).
const pname = (base, l = LAYER(), rev = REV()) =>
  (SEQ ? (S.col < TX ? "enc_" : "dec_") : "") + base + (l ? `_l${l}` : "") + (rev ? "_reverse" : "");
// The step after t in the shown direction's own order (t+1, the reverse direction's t-1), whether
// there is one, and its last step: backward walks the other way.
const nxt = (t) => (REV() ? t - 1 : t + 1);
const hasNext = (t) => nxt(t) >= 0 && nxt(t) < T;
const lastStep = () => (REV() ? 1 : T);
const isFirst = (t) => t === (REV() ? T - 1 : 0);
// The panel is written for a direction running forward in time: the reverse direction's says
// t+1 for t-1, t-1 for t+1 and starts from h(T+1).
function inTime(html) {
  if (!REV()) return html;
  return html.replace(/t\u22121|t\+1|\(0\)/g, (m) => (m === "t+1" ? "t\u22121" : m === "(0)" ? `(${T + 1})` : "t+1"));
}
// Which direction's columns of V (O, 2H) and of an upper layer's U (G*H, 2H) the shown layer's h meets.
const dirCols = (row) => (DIRS > 1 ? row.slice(REV() ? HS : 0, REV() ? 2 * HS : HS) : row);
const arrow2 = (rev) => (rev ? "\u2190" : "\u2192");
const SUB = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
const sub = (n) => String(n).split("").map((c) => SUB[+c]).join("");
// Layers are numbered from 0, as the parameters are: layer l's are U_l<l>, W_l<l>, b_l<l> (layer
// 0's plain U, W, b); it reads h_(l-1)(t), the h(t) of layer l - 1, and sends back U_l<l>^T dL/da_l(t).
function layerName(i = S.layer) {
  const L = D.layers[i], l = L.layer === undefined ? i : L.layer;
  const dir = DIRS > 1 ? (L.reverse ? " reverse" : " forward") : "";
  return `layer ${l}${dir}${NL < 2 ? "" : l === NL - 1 ? " (top)" : l === 0 ? " (bottom)" : ""}`;
}
// What the shown layer reads at step t, and what its h(t) receives from outside the recurrence.
// (A stacked encoder-decoder's layer l > 0 reads the h(t) of its own half's layer l - 1.)
const inputName = () => (LAYER() > 0 ? `h${sub(LAYER() - 1)}(t)` : SEQ && S.col >= TX ? "y(t\u22121)" : "x(t)");
const inputProduct = () => `U ${inputName()}`;
function fromAbove() {
  if (SEQ && S.col < TX && isTop()) return { key: "Vdo", label: "(no readout)", text: "0 (the encoder has no readout)" };
  const V = DIRS > 1 ? `V${arrow2(REV())}` : "V";      // V's columns that meet this direction's h
  if (isTop()) return { key: "Vdo", label: `${V}\u1d40\u2202L/\u2202o(t)`, text: `${V}\u1d40 \u2202L/\u2202o(t)` };
  const a = `\u2202L/\u2202a${sub(LAYER() + 1)}(t)`, U = pname("U", LAYER() + 1, false);
  if (DIRS > 1) return { key: "Uda", label: `${U}\u1d40${a}, both ways`, text: `${U}\u1d40 ${a} + ${U}_reverse\u1d40 ${a}` };
  return { key: "Uda", label: `${U}\u1d40${a}`, text: `${U}\u1d40 ${a}` };
}
const layerNote = () => (SEQ ? ` (${S.col < TX ? "encoder" : "decoder"}${NL > 1 ? `, ${layerName()}` : ""}: ${pname("U")}, ${pname("W")}, ${pname("b")})`
  : NL > 1 || DIRS > 1 ? ` (${layerName()}: ${pname("U")}, ${pname("W")}, ${pname("b")})` : "");
// An encoder-decoder's context C_l and dL/dC_l: the shown layer's in a stack ("layers.l.context"),
// the one layer's at the top level otherwise (as pages of one layer have always read them).
const ctxPath = (which) => (NL > 1 ? `${LP()}.${which}` : which);
const ctxName = () => `C${NL > 1 ? sub(LAYER()) : ""}`;
// Gated cells show one gate block at a time in the panel's tables: buttons choose it.
function gateTabs(letters, names) {
  return `<p class="tabs">gate: ${letters.map((g, k) => `<button class="gate-tab" data-gate="${k}" aria-pressed="${S.gate === k}"
    title="${names[k]}">${g}</button>`).join("")}</p>`;
}
// Book and PyTorch notation of one equation, side by side.
const eqRow = (torch, book, no) => `<tr><td>${torch}</td><td>${book}</td><td class="no">${no}</td></tr>`;
const eqTable = (rows) => `<table class="eqs"><tr><th>bptt, in PyTorch's names</th><th><i>Deep Learning</i></th><th></th></tr>${rows}</table>`;

// dL/dh(t) = what comes from above + W^T dL/da(t+1), per unit: the table the RNN and the LSTM share.
function hErrorTable(t) {
  const P = LP(), up = fromAbove();
  let rows = "";
  HU.forEach((u, j) => {
    rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.${up.key}.${t}.${j}`)}</td><td>${num(`${P}.terms.Wda.${t}.${j}`)}</td>
      <td><b>${num(`${P}.errors.h.${t}.${j}`)}</b></td></tr>`;
  });
  return `<table class="nums"><tr><th>unit</th><th>${up.label}</th><th>W\u1d40\u2202L/\u2202a(t+1)</th><th>\u2202L/\u2202h(t)</th></tr>${rows}</table>`;
}
// The readout's error at step t, if the shown layer's h(t) receives one.
const outKey = (t) => (isTop() && hasOut(t) ? [`do.${t}`] : []);
// A parameter's name at column t (an encoder-decoder's enc_ or dec_ one by the column's half).
function colName(base, t) {
  const keep = S.col;
  S.col = t;
  const name = pname(base);
  S.col = keep;
  return name;
}
