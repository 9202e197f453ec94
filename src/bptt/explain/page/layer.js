// The layer the page shows (a stack shows one at a time) and what each layer reads and sends.
const LD = () => D.layers[S.layer];
const LP = () => `layers.${S.layer}`;                    // data path of the shown layer
const isTop = () => S.layer === NL - 1;
const pname = (base, l = S.layer) => base + (l ? `_l${l}` : "");   // the library's parameter names
const SUB = "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089";
const sub = (n) => String(n).split("").map((c) => SUB[+c]).join("");
// Layers are numbered from 0, as the parameters are: layer l's are U_l<l>, W_l<l>, b_l<l> (layer
// 0's plain U, W, b); it reads h_(l-1)(t), the h(t) of layer l - 1, and sends back U_l<l>^T dL/da_l(t).
const layerName = (l = S.layer) => `layer ${l}${NL < 2 ? "" : l === NL - 1 ? " (top)" : l === 0 ? " (bottom)" : ""}`;
// What the shown layer reads at step t, and what its h(t) receives from outside the recurrence.
const inputName = () => (S.layer === 0 ? "x(t)" : `h${sub(S.layer - 1)}(t)`);
const inputProduct = () => `U ${inputName()}`;
function fromAbove() {
  if (isTop()) return { key: "Vdo", label: "V\u1d40\u2202L/\u2202o(t)", text: "V\u1d40 \u2202L/\u2202o(t)" };
  const a = `\u2202L/\u2202a${sub(S.layer + 1)}(t)`;
  return { key: "Uda", label: `${pname("U", S.layer + 1)}\u1d40${a}`, text: `${pname("U", S.layer + 1)}\u1d40 ${a}` };
}
const layerNote = () => (NL > 1 ? ` (${layerName()}: ${pname("U")}, ${pname("W")}, ${pname("b")})` : "");
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
