// The simple RNN's view (cells/rnn.py): a(t) and h(t) forward, dL/dh(t) and dL/da(t) backward.
const RNN_VIEW = (function () {
  const fName = { tanh: "tanh", relu: "relu", linear: "identity" }[F];
  const fPrime = { tanh: "(1 \u2212 h(t)\u00b2)", relu: "[a(t) > 0]", linear: "1" }[F];
  // Backward in two tables, one per equation, so that each fits the side panel at 1024 px.
  const hTable = hErrorTable;
  function aTable(t) {
    const P = LP();
    let rows = "";
    HU.forEach((u, j) => {
      rows += `<tr><td>${u + 1}</td><td>${num(`${P}.terms.fprime.${t}.${j}`)}</td><td>${num(`${P}.errors.h.${t}.${j}`)}</td>
        <td><b>${num(`${P}.errors.a.${t}.${j}`)}</b></td></tr>`;
    });
    return `<table class="nums"><tr><th>unit</th><th>f\u2032(a(t))</th><th>\u2202L/\u2202h(t)</th><th>\u2202L/\u2202a(t)</th></tr>${rows}</table>`;
  }
  return {
    about: `A simple RNN of <i>Deep Learning</i> \u00a710.2`, unitsNote: `, ${fName}`,
    fwd: () => [{ name: "a", values: (t) => LD().a[t], scale: "SV" }, { name: "h", values: (t) => LD().h[t], scale: "SV" }],
    bwd: () => [{ name: "dh", q: "h", values: (t) => LD().errors.h[t] }, { name: "da", q: "a", values: (t) => LD().errors.a[t] }],
    gutter: (backward) => (backward ? ["\u2202L/\u2202h(t)", "| \u2202L/\u2202a(t)"] : ["a(t) | h(t)", ""]),
    introEqs: () => `<div class="eq">a(t) = b + W h(t\u22121) + U x(t)<span class="no">10.8</span></div>
      <div class="eq">h(t) = ${fName}(a(t))<span class="no">10.9</span></div>`,
    stateWords: "updates its hidden state <b>h(t)</b> (middle) from x(t) and h(t\u22121)",
    errorWords: "\u2202L/\u2202o(t), \u2202L/\u2202h(t), \u2202L/\u2202a(t)",
    panelFwd(t) {
      const P = LP();
      let rows = "";
      HU.forEach((u, j) => {
        rows += `<tr><td>${u + 1}</td><td>${num(`params.${pname("b")}.${j}`)}</td><td>${num(`${P}.terms.Wh.${t}.${j}`)}</td><td>${num(`${P}.terms.Ux.${t}.${j}`)}</td>
        <td><b>${num(`${P}.a.${t}.${j}`)}</b></td><td><b>${num(`${P}.h.${t}.${j}`)}</b></td></tr>`;
      });
      const hint = LAYER() === 0 ? `${inputProduct()} is column '${chIn(t)}' of ${pname("U")} (${inputName()} is one-hot)` : `${inputName()} is the h(t) of layer ${LAYER() - 1}`;
      return `<div class="eq">a(t) = b + W h(t\u22121) + ${inputProduct()}<span class="no">10.8</span></div>
      <div class="eq">h(t) = ${fName}(a(t))<span class="no">10.9</span></div>
      <table class="nums"><tr><th>unit</th><th>b</th><th>W h(t\u22121)</th><th>${inputProduct()}</th><th>a(t)</th><th>h(t)</th></tr>${rows}</table>
      <p class="hint">${hint}${isFirst(t) ? "; h(0) = 0, so W h(0) = 0" : ""}.</p>`;
    },
    panelBwd(t) {
      const up = fromAbove();
      return `<div class="eq">\u2202L/\u2202h(t) = ${up.text} + W\u1d40 \u2202L/\u2202a(t+1)<span class="no">10.21</span></div>
      ${hTable(t)}
      <div class="eq">\u2202L/\u2202a(t) = ${fPrime} \u2299 \u2202L/\u2202h(t)<span class="no">10.21</span></div>
      ${aTable(t)}`;
    },
    errorInfo(q, t) {
      if (q === "h") {
        const up = fromAbove().label.replace("(t)", `(${t + 1})`);
        return `<b>\u2202L/\u2202h(${t + 1}) = ${up} + W\u1d40\u2202L/\u2202a(${nxt(t) + 1})</b>${!hasNext(t) ? " (the last step: no later term)" : ""}${hTable(t)}`;
      }
      return `<b>\u2202L/\u2202a(${t + 1}) = ${fPrime} \u2299 \u2202L/\u2202h(${t + 1})</b>${aTable(t)}`;
    },
    // What each error is computed from (keys of drawn strips).
    needs(q, t) {
      if (q === "h") return [...outKey(t), ...(hasNext(t) ? [`da.${nxt(t)}`] : [])];
      return [`dh.${t}`];
    },
    contribWhat: () => ({ U: `\u2202L/\u2202a(t) ${inputName()}\u1d40`, W: "\u2202L/\u2202a(t) h(t\u22121)\u1d40" }),
    contribChain: (t) => `needs \u2202L/\u2202a(${t + 1}), which needs \u2202L/\u2202h(${t + 1}), which needs \u2202L/\u2202o(${t + 1}) and \u2202L/\u2202a(${nxt(t) + 1})\u2026: every error from step ${t + 1} to ${lastStep()}, framed.`,
    sumEqs: () => `<div class="eq">\u2202L/\u2202W = \u03a3<sub>t</sub> \u2202L/\u2202a(t) h(t\u22121)\u1d40<span class="no">10.25\u201310.26</span></div>
      <div class="eq">\u2202L/\u2202U = \u03a3<sub>t</sub> \u2202L/\u2202a(t) ${inputName()}\u1d40<span class="no">10.27\u201310.28</span></div>
      <div class="eq">\u2202L/\u2202b = \u03a3<sub>t</sub> \u2202L/\u2202a(t)<span class="no">10.23</span></div>`,
    lagWords: "In a simple RNN these usually shrink as the lag grows \u2014 the vanishing gradient that makes long memories hard to learn.",
    lagChain: "W\u1d40 and f\u2032 steps",
  };
})();
