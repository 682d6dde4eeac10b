// Four-pixel camera: weights set by clicking (1 → −1 → 0), evaluated by the server; then trained, and compared.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const NS = "http://www.w3.org/2000/svg";
  let info = null, weights = null, hand = null, learned = null, selected = 0;

  const shade = v => { const g = Math.round(127.5 + 127.5 * Math.max(-1, Math.min(1, v))); return `rgb(${g},${g},${g})`; };
  function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // a 2×2 picture (pixels row-major: top-left, top-right, bottom-left, bottom-right)
  function square(g, x, y, size, values, scale = 1) {
    values.forEach((v, i) => g.append(svg("rect", { x: x + (i % 2) * size / 2, y: y + Math.floor(i / 2) * size / 2,
      width: size / 2, height: size / 2, fill: shade(v / scale), stroke: "#59606e", "stroke-width": 0.5 })));
  }

  // ------------------------------------------------------------------ the diagram
  const Y4 = i => 81 + i * 144, Y8 = k => 45 + k * 72;
  function draw(el, ev, w, editable) {
    el.replaceChildren();
    el.append(svg("rect", { x: 0, y: 0, width: 980, height: 600, fill: "#8d96a7", rx: 8 }));
    const scales = w.map(m => Math.max(1e-9, ...m.flat().map(Math.abs)));
    const img = ev.images[selected], acts = ev.layers.map(l => l[selected]);
    const fields = ev.receptive_fields;
    const head = (x, text) => el.append(svg("text", { x, y: 18, fill: "#fff", "font-size": 13, "font-weight": 600 }, text));
    head(24, "pixels"); head(200, "tanh layer (4)"); head(420, "ReLU layer (8)"); head(640, "class scores → softmax");
    const edges = svg("g"), nodes = svg("g");
    el.append(edges, nodes);
    const edge = (x1, y1, x2, y2, v, scale) => {
      if (Math.abs(v) < 1e-9) return;
      edges.append(svg("line", { x1, y1, x2, y2, stroke: shade(Math.sign(v)), "stroke-width": 0.6 + 2.4 * Math.abs(v) / scale, opacity: 0.9 }));
    };
    const cell = (x, y, size, layer, row, col) => {
      const v = w[layer][row][col];
      const r = svg("rect", { x, y, width: size, height: size, fill: shade(v / scales[layer]), stroke: "#39404d", "stroke-width": 1,
                              class: editable ? "cell" : "" });
      r.append(svg("title", {}, `weight ${Lab.fmt(v, 3)}${editable ? " (click: 1 → −1 → 0)" : ""}`));
      if (editable) {
        r.addEventListener("click", () => cycle(layer, row, col));
        r.setAttribute("tabindex", "0"); r.setAttribute("role", "button");
        r.setAttribute("aria-label", `layer ${layer + 1} weight ${row + 1}, ${col + 1}: ${Lab.fmt(v, 3)}; press Enter to change it`);
        r.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); cycle(layer, row, col); } });
      }
      nodes.append(r);
    };
    const activation = (x, y, v, label) => {
      nodes.append(svg("circle", { cx: x, cy: y, r: 17, fill: shade(v), stroke: "#39404d" }));
      nodes.append(svg("text", { x, y: y + 4, "text-anchor": "middle", "font-size": 10, fill: Math.abs(v) > 0.3 && v < 0 ? "#fff" : "#1d2330" }, label ?? Lab.fmt(v, 2)));
    };
    // inputs: each pixel a neuron; its receptive field is itself
    for (let i = 0; i < 4; i++) {
      const one = [0, 0, 0, 0]; one[i] = img[i];
      square(nodes, 30, Y4(i) - 18, 36, one.map((v, k) => (k === i ? v : 0)));
      nodes.append(svg("rect", { x: 30 + (i % 2) * 18, y: Y4(i) - 18 + Math.floor(i / 2) * 18, width: 18, height: 18, fill: "none", stroke: "#ffd43b", "stroke-width": 2 }));
      nodes.append(svg("text", { x: 72, y: Y4(i) + 4, fill: "#fff", "font-size": 11 }, img[i] > 0 ? "+1" : "−1"));
    }
    // tanh layer: 2×2 weights (one per pixel), receptive field, activation
    for (let j = 0; j < 4; j++) {
      const y = Y4(j);
      for (let i = 0; i < 4; i++) {
        const cx = 200 + (i % 2) * 18, cy = y - 18 + Math.floor(i / 2) * 18;
        edge(92, Y4(i), cx, cy + 9, w[0][j][i], scales[0]);
        cell(cx, cy, 18, 0, j, i);
      }
      square(nodes, 258, y - 18, 36, fields[0][j], Math.max(1e-9, ...fields[0][j].map(Math.abs)));
      activation(330, y, acts[0][j]);
    }
    // ReLU layer: one weight per tanh neuron
    for (let k = 0; k < 8; k++) {
      const y = Y8(k);
      for (let j = 0; j < 4; j++) {
        edge(347, Y4(j), 420 + j * 15, y - 7, w[1][k][j], scales[1]);
        cell(420 + j * 15, y - 7, 14, 1, k, j);
      }
      square(nodes, 492, y - 16, 32, fields[1][k], Math.max(1e-9, ...fields[1][k].map(Math.abs)));
      activation(560, y, acts[1][k]);
    }
    // outputs: one weight per ReLU neuron; the score, P(class)
    for (let c = 0; c < 4; c++) {
      const y = Y4(c);
      for (let k = 0; k < 8; k++) {
        edge(577, Y8(k), 640 + k * 13, y - 6, w[2][c][k], scales[2]);
        cell(640 + k * 13, y - 6, 12, 2, c, k);
      }
      const p = ev.probabilities[selected][c], best = ev.predicted[selected] === c;
      nodes.append(svg("text", { x: 760, y: y - 4, fill: "#fff", "font-size": 13, "font-weight": best ? 700 : 400 }, ev.classes[c]));
      nodes.append(svg("text", { x: 760, y: y + 12, fill: "#e9ecef", "font-size": 11 }, `score ${Lab.fmt(acts[2][c], 3)}`));
      nodes.append(svg("rect", { x: 850, y: y - 8, width: 100, height: 14, fill: "#6b7385", rx: 3 }));
      nodes.append(svg("rect", { x: 850, y: y - 8, width: Math.round(100 * p), height: 14, fill: best ? "#40c057" : "#dee2e6", rx: 3 }));
      nodes.append(svg("text", { x: 900, y: y + 22, fill: "#fff", "font-size": 11, "text-anchor": "middle" }, `P = ${(100 * p).toFixed(1)} %`));
    }
  }

  // ------------------------------------------------------------------ the eight images
  function drawImages(ev) {
    const box = $("#images");
    box.replaceChildren();
    ev.images.forEach((img, n) => {
      const c = Lab.el("canvas", { width: 56, height: 56, class: "pixel" });
      Lab.heatmap(c, img, 2, 2, v => Lab.gray((v + 1) / 2));
      const ok = ev.correct[n];
      const item = Lab.el("div", { class: "fp-image" + (n === selected ? " sel" : ""), title: "show this image's path through the network" },
        c, Lab.el("div", { class: "small", text: ev.classes[ev.labels[n]] }),
        Lab.el("div", { class: "small " + (ok ? "ok" : "no"), text: `${ok ? "✓" : "✗"} ${ev.classes[ev.predicted[n]]}` }),
        Lab.el("div", { class: "small muted", text: `${(100 * ev.probabilities[n][ev.predicted[n]]).toFixed(0)} %` }));
      item.addEventListener("click", () => { selected = n; render(); });
      box.append(item);
    });
    $("#hand-loss").textContent = Lab.fmt(ev.loss, 3);
    $("#hand-acc").textContent = `${ev.correct.filter(Boolean).length} / 8`;
    $("#selected-note").textContent = `· showing image ${selected + 1} (${ev.classes[ev.labels[selected]]}); click another image above`;
  }

  function render() {
    drawImages(hand);
    draw($("#net"), hand, weights, true);
    if (learned) draw($("#net-learned"), learned, learned.weights, false);
  }

  async function evaluate() {
    try { hand = await Lab.api("/api/fourpixel/evaluate", { weights }); render(); } catch (e) {}
  }
  function cycle(layer, row, col) {
    const v = weights[layer][row][col];
    weights[layer][row][col] = v === 1 ? -1 : v === -1 ? 0 : 1;
    evaluate();
  }

  $("#preset").addEventListener("click", () => { weights = structuredClone(info.preset); evaluate(); });
  $("#zero").addEventListener("click", () => { weights = structuredClone(info.zero); evaluate(); });
  $("#train").addEventListener("click", async () => {
    const body = { epochs: Math.round(+$("#epochs").value), lr: +$("#lr").value, seed: Math.round(+$("#seed").value) };
    $("#train").disabled = true;
    try {
      learned = await Lab.api("/api/fourpixel/train", body);
    } catch (e) { return; } finally { $("#train").disabled = false; }
    $("#learned").hidden = false;
    const t = $("#compare");
    t.replaceChildren(Lab.el("tr", {}, Lab.el("th", { text: "" }), Lab.el("th", { text: "your weights" }), Lab.el("th", { text: "learned" })));
    const row = (name, a, b) => t.append(Lab.el("tr", {}, Lab.el("td", { text: name }), Lab.el("td", { text: a }), Lab.el("td", { text: b })));
    row("correct", `${hand.correct.filter(Boolean).length} / 8`, `${learned.correct.filter(Boolean).length} / 8`);
    row("cross-entropy loss", Lab.fmt(hand.loss, 4), Lab.fmt(learned.loss, 4));
    row("weights", "1, −1 or 0", `from ${Lab.fmt(Math.min(...learned.weights.flat(2)), 2)} to ${Lab.fmt(Math.max(...learned.weights.flat(2)), 2)}`);
    hand.images.forEach((_, n) => row(`image ${n + 1} (${hand.classes[hand.labels[n]]})`,
      `${hand.classes[hand.predicted[n]]} ${(100 * hand.probabilities[n][hand.predicted[n]]).toFixed(0)} %`,
      `${learned.classes[learned.predicted[n]]} ${(100 * learned.probabilities[n][learned.predicted[n]]).toFixed(0)} %`));
    const every = Math.max(1, Math.floor(learned.epochs / learned.history.length));
    Lab.linePlot($("#curve"), [{ x: learned.history.map((_, i) => i * every), y: learned.history, colour: "#3b5bdb" }],
                 { xLabel: "step", logY: true });
    render();
  });

  document.addEventListener("DOMContentLoaded", async () => {
    info = await Lab.api("/api/fourpixel");
    weights = structuredClone(info.preset);
    hand = info.evaluation;
    render();
  });
})();
