// The LSTM's view (cells/lstm.py): the gates i, f, g, o, the cell state s and h forward;
// the errors of h and s and at the four gates' pre-activations backward.
const LSTM_VIEW = (function () {
  const G = ["i", "f", "g", "o"];
  const NAMES = ["input gate i (the book's external input gate g)", "forget gate f", "cell input g (the book's \u03c3(b + U x + W h))",
                 "output gate o (the book's q)"];
  const NL_ = ["\u03c3", "\u03c3", "tanh", "\u03c3"];
  const gate = (t, k) => block(LD().gates[t], k);
  // The cell state and the output in two tables, one per equation, to fit the panel at 1024 px.
  function stateTable(t) {
    const P = LP();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.fs.${t}.${j}`)}</td><td>${num(`${P}.terms.ig.${t}.${j}`)}</td>
        <td><b>${num(`${P}.s.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>f\u2299s(t\u22121)</th><th>i\u2299g</th><th>s(t)</th></tr>${rows}</table>`;
  }
  function outTable(t) {
    const P = LP();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.gates.${t}.${3 * HS + j}`)}</td><td>${num(`${P}.tanh_s.${t}.${j}`)}</td>
        <td><b>${num(`${P}.h.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>o</th><th>tanh s(t)</th><th>h(t)</th></tr>${rows}</table>`;
  }
  function gateTable(t) {
    const P = LP(), k = S.gate, off = k * HS;
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`params.${pname("b")}.${off + j}`)}</td><td>${num(`${P}.terms.Wh.${t}.${off + j}`)}</td>
        <td>${num(`${P}.terms.Ux.${t}.${off + j}`)}</td><td>${num(`${P}.terms.pre.${t}.${off + j}`)}</td><td><b>${num(`${P}.gates.${t}.${off + j}`)}</b></td></tr>`;
    });
    return `${gateTabs(G, NAMES)}<table class="nums"><tr><th>unit</th><th>b<sub>${G[k]}</sub></th><th>W<sub>${G[k]}</sub> h(t\u22121)</th>
      <th>U<sub>${G[k]}</sub> ${inputName()}</th><th>a<sub>${G[k]}</sub>(t)</th><th>${G[k]} = ${NL_[k]}(a<sub>${G[k]}</sub>)</th></tr>${rows}</table>`;
  }
  const hTable = hErrorTable;
  function sTable(t) {
    const P = LP();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.dhs.${t}.${j}`)}</td><td>${num(`${P}.terms.fds.${t}.${j}`)}</td>
        <td><b>${num(`${P}.errors.s.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>\u2202L/\u2202h \u2299 o(1\u2212tanh\u00b2s)</th><th>f(t+1)\u2202L/\u2202s(t+1)</th>
      <th>\u2202L/\u2202s(t)</th></tr>${rows}</table>`;
  }
  const LOCAL = ["g \u2299 i(1\u2212i)", "s(t\u22121) \u2299 f(1\u2212f)", "i \u2299 (1\u2212g\u00b2)", "tanh s(t) \u2299 o(1\u2212o)"];
  function daTable(t) {
    const P = LP(), k = S.gate, off = k * HS, by = k === 3 ? "h" : "s";
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.local.${t}.${off + j}`)}</td><td>${num(`${P}.errors.${by}.${t}.${j}`)}</td>
        <td><b>${num(`${P}.errors.a.${t}.${off + j}`)}</b></td></tr>`;
    });
    return `${gateTabs(G, NAMES)}<div class="eq">\u2202L/\u2202a<sub>${G[k]}</sub>(t) = \u2202L/\u2202${by}(t) \u2299 ${LOCAL[k]}</div>
      <table class="nums"><tr><th>unit</th><th>${LOCAL[k]}</th><th>\u2202L/\u2202${by}(t)</th><th>\u2202L/\u2202a<sub>${G[k]}</sub>(t)</th></tr>${rows}</table>`;
  }
  const hEq = () => `\u2202L/\u2202h(t) = ${fromAbove().text} + W\u1d40 \u2202L/\u2202a(t+1)`;
  const sEq = "\u2202L/\u2202s(t) = \u2202L/\u2202h(t) \u2299 o \u2299 (1 \u2212 tanh\u00b2 s(t)) + f(t+1) \u2299 \u2202L/\u2202s(t+1)";
  const fwdEqs = () => eqTable(
    eqRow(`[a<sub>i</sub> a<sub>f</sub> a<sub>g</sub> a<sub>o</sub>] = b + W h(t\u22121) + ${inputProduct()}`, "(four blocks: b<sup>f</sup> + U<sup>f</sup>x + W<sup>f</sup>h, \u2026)", "") +
    eqRow("f = \u03c3(a<sub>f</sub>)", "f(t), the forget gate", "10.40") +
    eqRow("i = \u03c3(a<sub>i</sub>)", "g(t), the external input gate", "10.42") +
    eqRow("g = tanh(a<sub>g</sub>)", "\u03c3(b + U x + W h), a sigmoid in the book", "10.41") +
    eqRow("o = \u03c3(a<sub>o</sub>)", "q(t), the output gate", "10.44") +
    eqRow("s(t) = f \u2299 s(t\u22121) + i \u2299 g", "s(t) = f s(t\u22121) + g \u03c3(\u2026)", "10.41") +
    eqRow("h(t) = o \u2299 tanh(s(t))", "h(t) = tanh(s(t)) q(t)", "10.43"));
  return {
    about: `An LSTM (<i>Deep Learning</i> \u00a710.10.1; PyTorch's nn.LSTM, gates in its order i, f, g, o; its cell state c is the book's s(t) here)`, unitsNote: "",
    fwd: () => [0, 1, 2, 3].map((k) => ({ name: G[k], values: (t) => gate(t, k), scale: k === 2 ? "SV" : "P" }))
      .concat([{ name: "s", values: (t) => LD().s[t], scale: "SV" }, { name: "h", values: (t) => LD().h[t], scale: "SV" }]),
    bwd: () => [{ name: "dh", q: "h", values: (t) => LD().errors.h[t] }, { name: "ds", q: "s", values: (t) => LD().errors.s[t] }]
      .concat([0, 1, 2, 3].map((k) => ({ name: `da${G[k]}`, q: `a${G[k]}`, values: (t) => block(LD().errors.a[t], k) }))),
    gutter: (backward) => (backward ? ["\u2202L/\u2202h | \u2202L/\u2202s", "| \u2202L/\u2202a i f g o"] : ["i f g o | s h", ""]),
    introEqs: () => fwdEqs(),
    stateWords: "updates its cell state <b>s(t)</b> and hidden state <b>h(t)</b> (middle) through the gates i, f, g, o",
    errorWords: "\u2202L/\u2202o(t), \u2202L/\u2202h(t), \u2202L/\u2202s(t) and the gates' \u2202L/\u2202a(t)",
    panelFwd: (t) => `${fwdEqs()}<h3>The gates: b + W h(t\u22121) + ${inputProduct()}, then the nonlinearity</h3>${gateTable(t)}
      <h3>The cell state: s(t) = f \u2299 s(t\u22121) + i \u2299 g</h3>${stateTable(t)}
      <h3>The output: h(t) = o \u2299 tanh(s(t))</h3>${outTable(t)}
      <p class="hint">${isFirst(t) ? "h(0) = s(0) = 0, so W h(0) = 0 and f\u2299s(0) = 0. " : ""}Purple gates run from 0 (shut) to 1 (open).</p>`,
    panelBwd: (t) => `<div class="eq">${hEq()}</div>${hTable(t)}
      <div class="eq">${sEq}<span class="no">the additive path</span></div>${sTable(t)}
      <h3>The gates' pre-activations</h3>${daTable(t)}`,
    errorInfo(q, t) {
      if (q === "h") return `<b>${hEq()}</b>${hTable(t)}`;
      if (q === "s") return `<b>${sEq}</b>${sTable(t)}`;
      return `${daTable(t)}`;
    },
    needs(q, t) {
      const later = hasNext(t), n = nxt(t);
      if (q === "h") return [...outKey(t), ...(later ? G.map((g) => `da${g}.${n}`) : [])];
      if (q === "s") return [`dh.${t}`, ...(later ? [`ds.${n}`] : [])];
      return [q === "ao" ? `dh.${t}` : `ds.${t}`];
    },
    gateOf: (q) => G.indexOf(q.slice(1)),
    contribWhat: () => ({ U: `\u2202L/\u2202a(t) ${inputName()}\u1d40`, W: "\u2202L/\u2202a(t) h(t\u22121)\u1d40" }),
    contribChain: (t) => `needs \u2202L/\u2202a(${t + 1}) of the four gates, which need \u2202L/\u2202h(${t + 1}) and \u2202L/\u2202s(${t + 1}), which need \u2202L/\u2202o(${t + 1}), \u2202L/\u2202a(${nxt(t) + 1}) and \u2202L/\u2202s(${nxt(t) + 1})\u2026: every error from step ${t + 1} to ${lastStep()}, framed.`,
    sumEqs: () => `<div class="eq">\u2202L/\u2202W = \u03a3<sub>t</sub> \u2202L/\u2202a(t) h(t\u22121)\u1d40 <span class="no">a = [a<sub>i</sub> a<sub>f</sub> a<sub>g</sub> a<sub>o</sub>]</span></div>
      <div class="eq">\u2202L/\u2202U = \u03a3<sub>t</sub> \u2202L/\u2202a(t) ${inputName()}\u1d40</div>
      <div class="eq">\u2202L/\u2202b = \u03a3<sub>t</sub> \u2202L/\u2202a(t)</div>`,
    lagWords: "In an LSTM the cell state's additive path (f(t+1) \u2299 \u2202L/\u2202s(t+1), no W product) carries them back unshrunk wherever the forget gates f stay near 1.",
    lagChain: "backward steps of the cell (W\u1d40, the gates and the additive path)",
  };
})();
