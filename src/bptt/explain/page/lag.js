// The lag view: how much of each step's loss reaches each earlier h(k) (bptt.lag_profile of the page's sequence).
function drawLag() {
  const svg = $("lag");
  svg.replaceChildren();
  defs(svg);
  const vals = D.lag.norms.flat().filter((v) => v !== null && v > 0);
  const lo = Math.log10(Math.min(...vals)), hi = Math.log10(Math.max(...vals));
  const shade = (v) => (v === null ? "#fff" : mix(WHITE, PURPLE, hi > lo ? (Math.log10(Math.max(v, 1e-300)) - lo) / (hi - lo) : 1));
  const cell = Math.min(24, 380 / T), x0 = 60, y0 = 60;
  el("text", { x: x0, y: 30, "font-size": 13, "font-weight": 600 }, svg, "\u2016\u2202L(t)/\u2202h(k)\u2016");
  el("text", { x: x0 + (T * cell) / 2, y: y0 + T * cell + 34, "font-size": 11, "text-anchor": "middle", fill: "#5b6472" }, svg, "hidden state h(k)");
  el("text", { x: 18, y: y0 + (T * cell) / 2, "font-size": 11, "text-anchor": "middle", fill: "#5b6472",
               transform: `rotate(-90 18 ${y0 + (T * cell) / 2})` }, svg, "loss step t");
  D.lag.norms.forEach((row, t) => {
    el("text", { x: x0 - 4, y: y0 + t * cell + cell * 0.7, "font-size": 10, "text-anchor": "end", fill: "#5b6472" }, svg, t + 1);
    el("text", { x: x0 + t * cell + cell / 2, y: y0 + T * cell + 14, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, t + 1);
    row.forEach((v, k) => el("rect", { class: "cell", x: x0 + k * cell, y: y0 + t * cell, width: cell - 1, height: cell - 1,
      fill: shade(v), stroke: v === null ? "#eef0f3" : "none",
      "data-tip": v === null ? `L(${t + 1}) cannot reach h(${k + 1}), a later step` : `\u2016\u2202L(${t + 1})/\u2202h(${k + 1})\u2016 = ${v}` }, svg));
  });
  el("rect", { x: x0, y: y0 + T * cell + 46, width: 160, height: 10, fill: ref(svg, "gProb"), stroke: "#99a" }, svg);
  el("text", { x: x0, y: y0 + T * cell + 70, "font-size": 10, fill: "#5b6472" }, svg, format(10 ** lo, "e1"));
  el("text", { x: x0 + 160, y: y0 + T * cell + 70, "font-size": 10, fill: "#5b6472", "text-anchor": "end" }, svg, format(10 ** hi, "e1"));
  el("text", { x: x0 + 170, y: y0 + T * cell + 56, "font-size": 10, fill: "#5b6472" }, svg, "norm (log colour scale)");
  // Bars: mean norm per lag, log scale.
  const bx = 500, by = 60, bw = 330, bh = 380, bl = D.lag.by_lag;
  const blo = Math.floor(Math.log10(Math.min(...bl.filter((v) => v > 0)))), bhi = Math.ceil(Math.log10(Math.max(...bl)));
  const yOf = (v) => by + bh - ((Math.log10(Math.max(v, 10 ** blo)) - blo) / Math.max(1, bhi - blo)) * bh;
  el("text", { x: bx, y: 30, "font-size": 13, "font-weight": 600 }, svg, "mean norm by lag t \u2212 k (log scale)");
  for (let e = blo; e <= bhi; e++) {
    el("line", { x1: bx, x2: bx + bw, y1: yOf(10 ** e), y2: yOf(10 ** e), stroke: "#e2e6ec" }, svg);
    el("text", { x: bx - 4, y: yOf(10 ** e) + 3, "font-size": 10, "text-anchor": "end", fill: "#5b6472" }, svg, `1e${e}`);
  }
  const w = bw / T;
  bl.forEach((v, d) => {
    const y = yOf(v);
    el("rect", { class: "cell", x: bx + d * w + 2, y, width: w - 4, height: by + bh - y, fill: "#6b46c1",
                 "data-tip": `lag ${d}: mean \u2016\u2202L(t)/\u2202h(t\u2212${d})\u2016 = ${v}` }, svg);
    el("text", { x: bx + d * w + w / 2, y: by + bh + 14, "font-size": 10, "text-anchor": "middle", fill: "#5b6472" }, svg, d);
    // The value above its bar and its neighbours' (a label is as wide as two bars).
    const yText = Math.min(y, ...[d - 1, d + 1].filter((n) => n >= 0 && n < T).map((n) => yOf(bl[n]))) - 4;
    if (T <= 8 || d % 2 === 0) el("text", { x: bx + d * w + w / 2, y: yText, "font-size": 9, "text-anchor": "middle",
      "data-path": `lag.by_lag.${d}`, "data-fmt": "e1" }, svg, format(v, "e1"));
  });
  el("text", { x: bx + bw / 2, y: by + bh + 32, "font-size": 11, "text-anchor": "middle", fill: "#5b6472" }, svg, "lag t \u2212 k (steps back)");
}
