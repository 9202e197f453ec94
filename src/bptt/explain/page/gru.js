// The GRU's view (cells/gru.py, PyTorch's formulation): the gates r, z, the candidate n and h
// forward; the error of h and at the three blocks' pre-activations backward.
const GRU_VIEW = (function () {
  const G = ["r", "z", "n"];
  const NAMES = ["reset gate r", "update gate z (the book's u)", "candidate n"];
  const gate = (t, k) => block(LD().gates[t], k);
  function gateTable(t) {
    const P = LP(), k = S.gate, off = k * HS, n = k === 2;
    let rows = "";
    HU.forEach((u, j) => {
      const rec = n ? num(`${P}.terms.rhn.${t}.${j}`) : num(`${P}.terms.Wh.${t}.${off + j}`);
      rows += `<tr><td>${u + 1}</td><td>${num(`params.${pname("b")}.${off + j}`)}</td><td>${rec}</td>
        <td>${num(`${P}.terms.Ux.${t}.${off + j}`)}</td><td>${num(`${P}.terms.pre.${t}.${off + j}`)}</td><td><b>${num(`${P}.gates.${t}.${off + j}`)}</b></td></tr>`;
    });
    const recHead = n ? "r\u2299(W<sub>n</sub> h(t\u22121) + b<sub>hn</sub>)" : `W<sub>${G[k]}</sub> h(t\u22121)`;
    return `${gateTabs(G, NAMES)}<table class="nums"><tr><th>unit</th><th>b<sub>${G[k]}</sub></th><th>${recHead}</th>
      <th>U<sub>${G[k]}</sub> ${inputName()}</th><th>a<sub>${G[k]}</sub>(t)</th><th>${G[k]} = ${n ? "tanh" : "\u03c3"}(a<sub>${G[k]}</sub>)</th></tr>${rows}</table>`;
  }
  function stateTable(t) {
    const P = LP();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.zn.${t}.${j}`)}</td><td>${num(`${P}.terms.zh.${t}.${j}`)}</td>
        <td><b>${num(`${P}.h.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>(1\u2212z)\u2299n</th><th>z\u2299h(t\u22121)</th><th>h(t)</th></tr>${rows}</table>`;
  }
  function hTable(t) {
    const P = LP(), up = fromAbove();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.${up.key}.${t}.${j}`)}</td><td>${num(`${P}.terms.Wda.${t}.${j}`)}</td>
        <td>${num(`${P}.terms.zdh.${t}.${j}`)}</td><td><b>${num(`${P}.errors.h.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>${up.label}</th><th>W\u1d40e(t+1)</th><th>z(t+1)\u2299\u2202L/\u2202h(t+1)</th>
      <th>\u2202L/\u2202h(t)</th></tr>${rows}</table>`;
  }
  const LOCAL = ["(W<sub>n</sub>h(t\u22121)+b<sub>hn</sub>) \u2299 r(1\u2212r)", "(h(t\u22121) \u2212 n) \u2299 z(1\u2212z)", "(1\u2212z) \u2299 (1\u2212n\u00b2)"];
  const BY = ["a<sub>n</sub>", "h", "h"], BYKEY = (P, t, j) => [`${P}.errors.a.${t}.${2 * HS + j}`, `${P}.errors.h.${t}.${j}`, `${P}.errors.h.${t}.${j}`];
  function daTable(t) {
    const P = LP(), k = S.gate, off = k * HS;
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.local.${t}.${off + j}`)}</td><td>${num(BYKEY(P, t, j)[k])}</td>
        <td><b>${num(`${P}.errors.a.${t}.${off + j}`)}</b></td><td>${num(`${P}.errors.a_hh.${t}.${off + j}`)}</td></tr>`;
    });
    return `${gateTabs(G, NAMES)}<div class="eq">\u2202L/\u2202a<sub>${G[k]}</sub>(t) = \u2202L/\u2202${BY[k]}(t) \u2299 ${LOCAL[k]}</div>
      <table class="nums"><tr><th>unit</th><th>${LOCAL[k]}</th><th>\u2202L/\u2202${BY[k]}(t)</th><th>\u2202L/\u2202a<sub>${G[k]}</sub>(t)</th>
      <th>e<sub>${G[k]}</sub>(t)${k === 2 ? " = \u2202L/\u2202a<sub>n</sub>\u2299r" : ""}</th></tr>${rows}</table>`;
  }
  const hEq = () => `\u2202L/\u2202h(t) = ${fromAbove().text} + W\u1d40 e(t+1) + z(t+1) \u2299 \u2202L/\u2202h(t+1)`;
  const fwdEqs = () => eqTable(
    eqRow(`r = \u03c3(b<sub>r</sub> + W<sub>r</sub> h(t\u22121) + U<sub>r</sub> ${inputName()})`, "r(t), the reset gate", "10.47") +
    eqRow(`z = \u03c3(b<sub>z</sub> + W<sub>z</sub> h(t\u22121) + U<sub>z</sub> ${inputName()})`, "u(t), the update gate", "10.46") +
    eqRow(`n = tanh(b<sub>n</sub> + U<sub>n</sub> ${inputName()} + r \u2299 (W<sub>n</sub> h(t\u22121) + b<sub>hn</sub>))`, "\u03c3(b + U x + W (r \u2299 h(t\u22121))): r before W", "10.45") +
    eqRow("h(t) = (1 \u2212 z) \u2299 n + z \u2299 h(t\u22121)", "h(t) = u h(t\u22121) + (1 \u2212 u) \u03c3(\u2026)", "10.45"));
  return {
    about: `A GRU (<i>Deep Learning</i> \u00a710.10.2 in PyTorch's formulation, nn.GRU, gates in its order r, z, n)`, unitsNote: "",
    fwd: () => [0, 1, 2].map((k) => ({ name: G[k], values: (t) => gate(t, k), scale: k === 2 ? "SV" : "P" }))
      .concat([{ name: "h", values: (t) => LD().h[t], scale: "SV" }]),
    bwd: () => [{ name: "dh", q: "h", values: (t) => LD().errors.h[t] }]
      .concat([0, 1, 2].map((k) => ({ name: `da${G[k]}`, q: `a${G[k]}`, values: (t) => block(LD().errors.a[t], k) }))),
    gutter: (backward) => (backward ? ["\u2202L/\u2202h(t)", "| \u2202L/\u2202a r z n"] : ["r z n | h(t)", ""]),
    introEqs: () => fwdEqs(),
    stateWords: "updates its hidden state <b>h(t)</b> (middle) through the reset gate r, the update gate z and the candidate n",
    errorWords: "\u2202L/\u2202o(t), \u2202L/\u2202h(t) and the gates' \u2202L/\u2202a(t)",
    panelFwd: (t) => `${fwdEqs()}<h3>The gates: b + W h(t\u22121) + ${inputProduct()}, then the nonlinearity</h3>${gateTable(t)}
      <h3>The new state</h3>${stateTable(t)}
      <p class="hint">${isFirst(t) ? "h(0) = 0, so W h(0) = 0. " : ""}r multiplies W<sub>n</sub> h(t\u22121) + b<sub>hn</sub>, so the n block keeps its recurrent bias b<sub>hn</sub> apart. Purple gates run from 0 to 1.</p>`,
    panelBwd: (t) => `<div class="eq">${hEq()}</div>
      <p class="hint">e = [\u2202L/\u2202a<sub>r</sub>, \u2202L/\u2202a<sub>z</sub>, \u2202L/\u2202a<sub>n</sub> \u2299 r], the recurrent side's error;
      z \u2299 \u2202L/\u2202h is the direct path through h(t) = \u2026 + z \u2299 h(t\u22121).</p>${hTable(t)}
      <h3>The gates' pre-activations</h3>${daTable(t)}`,
    errorInfo(q, t) {
      if (q === "h") return `<b>${hEq()}</b>${hTable(t)}`;
      return `${daTable(t)}`;
    },
    needs(q, t) {
      if (q === "h") return [...outKey(t), ...(hasNext(t) ? [...G.map((g) => `da${g}.${nxt(t)}`), `dh.${nxt(t)}`] : [])];
      return [q === "ar" ? `dan.${t}` : `dh.${t}`];
    },
    gateOf: (q) => G.indexOf(q.slice(1)),
    contribWhat: () => ({ U: `\u2202L/\u2202a(t) ${inputName()}\u1d40`, W: "e(t) h(t\u22121)\u1d40" }),
    contribChain: (t) => `needs the errors of step ${t + 1}, which need \u2202L/\u2202h(${t + 1}), which needs \u2202L/\u2202o(${t + 1}) and every error of step ${nxt(t) + 1}\u2026: every error from step ${t + 1} to ${lastStep()}, framed.`,
    sumEqs: () => `<div class="eq">\u2202L/\u2202W = \u03a3<sub>t</sub> e(t) h(t\u22121)\u1d40 <span class="no">e = [\u2202L/\u2202a<sub>r</sub>, \u2202L/\u2202a<sub>z</sub>, \u2202L/\u2202a<sub>n</sub>\u2299r]</span></div>
      <div class="eq">\u2202L/\u2202U = \u03a3<sub>t</sub> \u2202L/\u2202a(t) ${inputName()}\u1d40</div>
      <div class="eq">\u2202L/\u2202b = \u03a3<sub>t</sub> \u2202L/\u2202a(t), \u2202L/\u2202b<sub>hn</sub> = \u03a3<sub>t</sub> \u2202L/\u2202a<sub>n</sub>(t) \u2299 r</div>`,
    lagWords: "In a GRU the direct path z \u2299 h(t\u22121) can carry them further than a simple RNN's W\u1d40 chain when z stays near 1.",
    lagChain: "backward steps of the cell (W\u1d40, the gates and the direct path)",
  };
})();
