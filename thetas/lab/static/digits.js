// Digits: draw (with the mouse or the keyboard), send the drawing (140×140 grayscale bytes), show the guesses and
// every layer; hover a unit for the lines to the units that feed it, click it for what it computes. The model is
// the page's ("loaded") or, once "watch it learn" has one, this client's live LeNet (digits-learn.js says which).
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const SEND = 140;                       // the drawing is sent as SEND × SEND bytes (the server accepts ≤ 200×200)
  let model = null;                       // the model in use: layers, classes, input size (status.model)
  let loaded = null;                      // the page's model (status.model)
  let which = "loaded";                   // "loaded" or "live": what the requests ask for
  let lastDrawing = null;                 // the drawing last sent
  let result = null;                      // the last prediction
  let selected = null;                    // {layer, unit}
  let inFlight = false, again = false, inkDrawn = false;
  const hidden = new Set();               // layers toggled off
  const views = [];                       // per layer: {canvases, draw(data), pick(canvas, x, y)}

  // ------------------------------------------------------------------ the drawing pad
  const pad = $("#pad"), ctx = pad.getContext("2d");
  let mode = "pen", down = false, last = null;
  function clearPad() {
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height);
    inkDrawn = false;
  }
  function pos(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function stroke(a, b) {
    ctx.strokeStyle = mode === "pen" ? "#000" : "#fff";
    ctx.lineWidth = mode === "pen" ? +$("#size").value : 2 * +$("#size").value;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    if (mode === "pen") inkDrawn = true;
  }
  pad.addEventListener("pointerdown", e => {
    e.preventDefault();
    down = true; last = pos(e);
    pad.setPointerCapture(e.pointerId);
    stroke(last, [last[0] + 0.01, last[1]]);
  });
  pad.addEventListener("pointermove", e => {
    if (!down) return;
    const p = pos(e);
    stroke(last, p); last = p;
    if (!inFlight) predict();               // live while drawing, as fast as the server answers
  });
  const end = () => { if (down) { down = false; predict(); } };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  pad.addEventListener("pointerleave", e => { if (down && !pad.hasPointerCapture(e.pointerId)) end(); });
  $("#pen").addEventListener("click", () => { mode = "pen"; $("#pen").classList.add("on"); $("#eraser").classList.remove("on"); });
  $("#eraser").addEventListener("click", () => { mode = "eraser"; $("#eraser").classList.add("on"); $("#pen").classList.remove("on"); });
  $("#clear").addEventListener("click", () => { clearPad(); showBlank(); });
  Lab.keyPen(pad, { draw: stroke, moved: () => { if (!inFlight) predict(); }, lifted: () => predict(),
                    cleared: () => { clearPad(); showBlank(); }, size: () => +$("#size").value });

  function snapshot() {
    const small = document.createElement("canvas");
    small.width = small.height = SEND;
    const s = small.getContext("2d");
    s.fillStyle = "#fff"; s.fillRect(0, 0, SEND, SEND);
    s.drawImage(pad, 0, 0, SEND, SEND);
    const rgba = s.getImageData(0, 0, SEND, SEND).data;
    const ink = new Uint8Array(SEND * SEND);
    let any = false;
    for (let i = 0; i < ink.length; i++) { ink[i] = 255 - rgba[4 * i]; if (ink[i] > 25) any = true; }
    return { width: SEND, height: SEND, pixels: Lab.b64bytes(ink), any };
  }

  // ------------------------------------------------------------------ asking the server
  async function predict() {
    if (!model) return;
    if (inFlight) { again = true; return; }
    const drawing = snapshot();
    if (!drawing.any) { showBlank(); return; }
    delete drawing.any;
    inFlight = true;
    lastDrawing = drawing;
    try {
      result = await Lab.api("/api/digits/predict", { drawing, model: which });
      render(result);
      if (hovered) askFeeds();                          // its strongest inputs depend on the drawing
      if (selected) explain(selected.layer, selected.unit, drawing);
    } catch (e) { /* the message is shown */ } finally {
      inFlight = false;
      if (again) { again = false; predict(); }
    }
  }

  function showBlank() {
    result = null;
    unhover();
    $("#guess1").textContent = "?"; $("#guess2").textContent = "?";
    $("#prob1").textContent = $("#prob2").textContent = "";
    $("#bars").replaceChildren();
    for (const c of [$("#mnist"), $("#small")]) c.getContext("2d").clearRect(0, 0, c.width, c.height);
    for (const v of views) v.clear();
  }

  // ------------------------------------------------------------------ the layers
  function colourFor(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo < 0) { const m = Math.max(-lo, hi, 1e-9); return v => Lab.diverging(v / m); }
    const m = Math.max(hi, 1e-9);
    return v => Lab.sequential(v / m);
  }

  function buildLayers() {
    const box = $("#layers"), toggles = $("#toggles");
    box.replaceChildren(); views.length = 0;
    toggles.querySelectorAll("label").forEach(l => l.remove());
    model.layers.forEach((layer, li) => {
      const section = Lab.el("div", { class: "layer" });
      const shape = layer.shape;
      section.append(Lab.el("h2", {}, layer.title, Lab.el("span", { class: "muted", text: `output ${shape.join(" × ")}` +
        (layer.kind === "conv" ? " · each map: one kernel slid over the whole input" : "") })));
      const maps = Lab.el("div", { class: "maps" });
      section.append(maps);
      box.append(section);
      const box_ = Lab.el("input", { type: "checkbox" });
      box_.checked = !hidden.has(li);
      box_.addEventListener("change", () => {
        if (box_.checked) hidden.delete(li); else hidden.add(li);
        section.hidden = !box_.checked;
        drawFeeds();
      });
      section.hidden = hidden.has(li);
      toggles.append(Lab.el("label", {}, box_, layer.kind === "softmax" ? "softmax" : layer.title.split(":")[0]));
      views.push(makeView(layer, li, maps));
    });
    const acc = model.test_accuracy;
    const info = which === "live" ?
      [`the live model: ${model.parameters.toLocaleString()} thetas`, `trained here on ${model.dataset}`,
       `test accuracy ${(100 * acc).toFixed(1)} % on held-out test images`] :
      [`${model.parameters.toLocaleString()} thetas`, `trained on ${model.dataset}`,
       typeof acc === "number" ? `test accuracy ${(100 * acc).toFixed(2)} %` : "test accuracy not recorded in its file",
       `file ${model.file}`];
    $("#model-info").textContent = info.join(" · ");
    $("#small").hidden = model.input[0] !== 8;
    $("#input-note").textContent = model.input[0] === 8 ?
      "28×28 as MNIST, then 8×8 as the embedded digits (the model's input)" : "28×28, as MNIST";
    box.append(feedSvg);
  }

  function makeView(layer, li, maps) {
    const shape = layer.shape;
    const canvases = [];
    let cols = 1, cell = 1, H = 1, W = 1;
    if (layer.kind === "softmax") {
      const c = Lab.el("canvas", { width: 40 * shape[0], height: 96 });
      c.dataset.kind = "softmax"; canvases.push(c);
    } else if (shape.length === 3) {
      [H, W] = [shape[1], shape[2]];
      const room = Math.max(300, $("#layers").clientWidth || 1200);       // every map of a layer on one line
      cell = layer.kind === "input" ? Math.max(4, Math.floor(168 / H)) :
        Math.max(2, Math.min(Math.floor(84 / H), Math.floor((room / shape[0] - 8) / W)));
      for (let c = 0; c < shape[0]; c++) {
        const cv = Lab.el("canvas", { class: "pixel", width: W * cell, height: H * cell, title: `${layer.title}: map ${c}` });
        cv.dataset.channel = c; canvases.push(cv);
      }
    } else {
      cols = Math.min(shape[0], 40); cell = 14;
      const rows = Math.ceil(shape[0] / cols);
      canvases.push(Lab.el("canvas", { width: cols * cell, height: rows * cell, title: layer.title }));
    }
    function unitAt(cv, e) {
      const r = cv.getBoundingClientRect();
      const x = (e.clientX - r.left) * cv.width / r.width, y = (e.clientY - r.top) * cv.height / r.height;
      if (layer.kind === "softmax") return [Math.max(0, Math.min(shape[0] - 1, Math.floor(x / 40)))];
      if (shape.length === 3) {
        return [+cv.dataset.channel, Math.max(0, Math.min(H - 1, Math.floor(y / cell))), Math.max(0, Math.min(W - 1, Math.floor(x / cell)))];
      }
      const k = Math.floor(y / cell) * cols + Math.floor(x / cell);
      return k >= 0 && k < shape[0] ? [k] : null;
    }
    canvases.forEach(cv => {
      maps.append(cv);
      cv.addEventListener("click", e => {
        const unit = unitAt(cv, e);
        if (unit) choose(unit, cv);
      });
      cv.addEventListener("mousemove", e => { const unit = unitAt(cv, e); if (unit) hover(li, unit); else unhover(); });
      cv.addEventListener("mouseleave", () => unhover());
      // keyboard focus does what hovering does: the lines of the chosen unit of this map (its middle at first);
      // a click's focus leaves them to the mouse
      let byPointer = false;
      cv.addEventListener("pointerdown", () => { byPointer = true; });
      cv.addEventListener("focus", () => {
        if (byPointer) { byPointer = false; return; }
        const here = selected && selected.layer === li && (shape.length !== 3 || selected.unit[0] === +cv.dataset.channel);
        hover(li, here ? selected.unit : shape.length === 3 ? [+cv.dataset.channel, Math.floor(H / 2), Math.floor(W / 2)] : [0]);
      });
      cv.addEventListener("blur", () => unhover());
      // the keyboard: Tab to a map, arrows move the chosen unit, Enter explains it
      cv.tabIndex = 0;
      cv.setAttribute("role", "button");
      cv.setAttribute("aria-label", `${layer.title}${cv.dataset.channel !== undefined ? `, map ${cv.dataset.channel}` : ""}: ` +
                      "arrow keys choose a unit, Enter explains it");
      cv.addEventListener("keydown", e => {
        const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
        if (!(e.key in moves) && e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        const here = selected && selected.layer === li ? selected.unit : null;
        let unit;
        if (shape.length === 3) {
          const [dr, dc] = moves[e.key] || [0, 0], c = +cv.dataset.channel;
          const [r0, c0] = here && here[0] === c ? [here[1], here[2]] : [Math.floor(H / 2), Math.floor(W / 2)];
          unit = [c, Math.max(0, Math.min(H - 1, r0 + dr)), Math.max(0, Math.min(W - 1, c0 + dc))];
        } else {
          const [dr, dc] = moves[e.key] || [0, 0], step = layer.kind === "softmax" ? 1 : cols;
          unit = [Math.max(0, Math.min(shape[0] - 1, (here ? here[0] : 0) + dc + dr * step))];
        }
        choose(unit, cv);
        hover(li, unit);
      });
    });
    function choose(unit, cv) {
      selected = { layer: li, unit };
      if (!result) return;
      render(result);
      explain(li, unit);
      const panel = $("#unit-panel"), section = cv.closest(".layer");
      if (section && panel.previousElementSibling !== section) section.after(panel);   // under the layer clicked
      panel.classList.add("beside-layer");
      panel.scrollIntoView({ block: "nearest" });
      drawFeeds();
    }
    // where a unit is drawn: [its canvas, x, y] in the canvas's own pixels (the middle of its square or bar)
    function center(unit) {
      if (layer.kind === "softmax") return [canvases[0], unit[0] * 40 + 20, 48];
      if (shape.length === 3) return [canvases[unit[0]], (unit[2] + 0.5) * cell, (unit[1] + 0.5) * cell];
      return [canvases[0], (unit[0] % cols + 0.5) * cell, (Math.floor(unit[0] / cols) + 0.5) * cell];
    }
    function clear() { for (const cv of canvases) cv.getContext("2d").clearRect(0, 0, cv.width, cv.height); }
    function draw(entry) {
      const values = Lab.decode(entry);
      if (layer.kind === "softmax") return drawSoftmax(canvases[0], values);
      const colour = layer.kind === "input" ? Lab.gray : colourFor(values);
      if (shape.length === 3) {
        canvases.forEach((cv, c) => Lab.heatmap(cv, values, W, H, colour, { offset: c * H * W }));
      } else {
        const cv = canvases[0], g = cv.getContext("2d");
        g.fillStyle = "#fff"; g.fillRect(0, 0, cv.width, cv.height);
        values.forEach((v, k) => {
          g.fillStyle = Lab.css(colour(v));
          g.fillRect((k % cols) * cell + 1, Math.floor(k / cols) * cell + 1, cell - 2, cell - 2);
        });
      }
    }
    function mark(unit, rf) {
      if (layer.kind === "softmax") return;
      if (shape.length === 3) {
        const cv = canvases[unit.length === 3 ? unit[0] : 0], g = cv.getContext("2d");
        g.strokeStyle = "#00e5ff"; g.lineWidth = 2;
        if (rf) g.strokeRect(rf[1] * cell, rf[0] * cell, (rf[3] - rf[1] + 1) * cell, (rf[2] - rf[0] + 1) * cell);
        else g.strokeRect(unit[2] * cell, unit[1] * cell, cell, cell);
      } else {
        const g = canvases[0].getContext("2d");
        g.strokeStyle = "#00a2ff"; g.lineWidth = 2;
        g.strokeRect((unit[0] % cols) * cell, Math.floor(unit[0] / cols) * cell, cell, cell);
      }
    }
    return { draw, clear, mark, center, section: maps.closest(".layer") };
  }

  function drawSoftmax(cv, p) {
    const g = cv.getContext("2d");
    g.clearRect(0, 0, cv.width, cv.height);
    let best = 0;
    p.forEach((v, k) => { if (v > p[best]) best = k; });
    p.forEach((v, k) => {
      const h = Math.round(70 * v);
      g.fillStyle = k === best ? "#2b8a3e" : "#3b5bdb";
      g.fillRect(k * 40 + 8, 74 - h, 24, h);
      g.fillStyle = "#1d2330"; g.font = "bold 13px system-ui";
      g.fillText(model.classes[k], k * 40 + 15, 90);
      if (selected && selected.layer === model.layers.length - 1 && selected.unit[0] === k) {
        g.strokeStyle = "#00a2ff"; g.lineWidth = 2; g.strokeRect(k * 40 + 3, 2, 34, 92);
      }
    });
  }

  function render(r) {
    const [g1, g2] = r.guesses;
    $("#guess1").textContent = g1.label; $("#prob1").textContent = `${(100 * g1.probability).toFixed(1)} %`;
    $("#guess2").textContent = g2.label; $("#prob2").textContent = `${(100 * g2.probability).toFixed(1)} %`;
    // softmax, p = e^z / Σ e^z': a lead of a few units in z is near-certainty; say so when it claims to be sure
    $("#confidence-note").hidden = !(g1.probability > 0.99);
    const bars = $("#bars");
    bars.replaceChildren();
    r.probabilities.forEach((p, k) => {
      const fill = Lab.el("div", { class: r.classes[k] === g1.label ? "top" : "" });
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      bars.append(Lab.el("span", { text: r.classes[k] }), Lab.el("div", { class: "bar" }, fill),
                  Lab.el("span", { class: "muted", text: `${(100 * p).toFixed(1)}%` }));
    });
    Lab.heatmap($("#mnist"), Lab.decode(r.mnist), 28, 28, Lab.gray);
    if (model.input[0] === 8) Lab.heatmap($("#small"), Lab.decode(r.input), 8, 8, Lab.gray);
    r.layers.forEach((layer, i) => views[i] && views[i].draw(layer));
    if (selected && views[selected.layer]) views[selected.layer].mark(selected.unit);
    if (selected && selected.rf && views[0]) views[0].mark([0, 0, 0], selected.rf);
  }

  // ------------------------------------------------------------------ what feeds a unit (Harley's lines)
  // Hover a unit (or Tab to its map): a line runs to each unit of the layer before that feeds it, blue for a
  // positive weight, orange for a negative one, the thicker the larger |w|; a unit fed by many shows the strongest
  // (the server ranks them by |w·x| on this drawing) and says so. A max pool has no weights: its winner counts 1.
  const SVG = "http://www.w3.org/2000/svg";
  const feedSvg = document.createElementNS(SVG, "svg");
  feedSvg.setAttribute("class", "feed-lines");
  feedSvg.setAttribute("aria-hidden", "true");
  const FEED_NOTE = $("#feed-note").textContent;
  let hovered = null, feeds = null, hoverBusy = false;     // {layer, unit, key}; the answer drawn; a request out
  function hover(li, unit) {
    const key = `${which}:${li}:${unit.join(",")}`;
    if (hovered && hovered.key === key) return;
    hovered = { layer: li, unit, key };
    if (!result) return;
    if (model.layers[li].kind === "input") {
      feeds = null; drawFeeds();
      $("#feed-note").textContent = `${where(li, unit)}: a pixel of the input, fed by nothing but your drawing.`;
      return;
    }
    askFeeds();
  }
  function unhover() {
    hovered = null; feeds = null;
    feedSvg.replaceChildren();
    $("#feed-note").textContent = FEED_NOTE;
  }
  function where(li, unit) {
    const name = model.layers[li].title.split(":")[0];
    return unit.length === 3 ? `${name} · map ${unit[0]}, row ${unit[1]}, column ${unit[2]}` :
      `${name} · unit ${unit[0]}` + (model.layers[li].kind === "softmax" ? ` (class ${model.classes[unit[0]]})` : "");
  }
  async function askFeeds() {
    if (hoverBusy || !hovered || !lastDrawing) return;
    const h = hovered;
    hoverBusy = true;
    try {
      const d = await Lab.api("/api/digits/unit", { drawing: lastDrawing, layer: h.layer, unit: h.unit, model: which },
                              { quiet: true });
      if (hovered === h) { feeds = { layer: h.layer, unit: h.unit, f: d.feeds }; drawFeeds(); }
    } catch (e) { /* a hover asks again; the page's own requests show the errors */ } finally {
      hoverBusy = false;
      if (hovered && hovered !== h) askFeeds();            // the mouse moved on meanwhile
    }
  }
  function drawFeeds() {
    feedSvg.replaceChildren();
    feedSvg.setAttribute("width", 0); feedSvg.setAttribute("height", 0);   // no stale size after a resize
    if (!feeds || !views[feeds.layer]) return;
    const f = feeds.f, note = $("#feed-note"), here = where(feeds.layer, feeds.unit);
    if (!f) { note.textContent = `${here}: the layer before is not drawn as what feeds it.`; return; }
    const before = f.title.split(":")[0];
    const box = $("#layers"), origin = box.getBoundingClientRect();
    // as wide as the box shows, not as it scrolls: the lines never widen the page
    feedSvg.setAttribute("width", box.clientWidth); feedSvg.setAttribute("height", box.scrollHeight);
    const at = ([cv, x, y]) => {
      const r = cv.getBoundingClientRect();
      return [r.left - origin.left + x * r.width / cv.width, r.top - origin.top + y * r.height / cv.height];
    };
    const pool = model.layers[feeds.layer].kind === "pool";
    note.textContent = pool ?
      `${here}: the ${model.layers[feeds.layer].title.includes("max") ? "maximum" : "average"} of ${f.of} units of ${before}` +
        " (no weights: a max pool's winner, the thick line, counts 1 and the others 0)." :
      `${here}: fed by ${f.shown < f.of ? `the ${f.shown} strongest of its ${f.of} inputs` : `its ${f.of} inputs`} in ` +
        `${before}${f.shown < f.of ? ` (ranked by |w·x| on this drawing)` : ""}. Blue: w > 0, orange: w < 0; the thicker, the larger |w|.`;
    if (views[f.layer].section && views[f.layer].section.hidden) {
      note.textContent += ` Show ${before} to see the lines.`;
      return;
    }
    const [tx, ty] = at(views[feeds.layer].center(feeds.unit));
    const m = Math.max(1e-9, ...f.weights.map(Math.abs));
    f.units.forEach((u, i) => {
      const w = f.weights[i], [sx, sy] = at(views[f.layer].center(u));
      const line = document.createElementNS(SVG, "line");
      Object.entries({ x1: sx, y1: sy, x2: tx, y2: ty, "stroke-width": (0.6 + 3.4 * Math.abs(w) / m).toFixed(2),
                       stroke: w === 0 ? "#8a93a6" : Lab.css(w > 0 ? Lab.B : Lab.A), "stroke-opacity": 0.85,
                       "data-weight": w }).forEach(([k, v]) => line.setAttribute(k, v));
      if (w === 0) line.setAttribute("stroke-dasharray", "3 3");
      const dot = document.createElementNS(SVG, "circle");
      Object.entries({ cx: sx, cy: sy, r: 2.5, fill: line.getAttribute("stroke") }).forEach(([k, v]) => dot.setAttribute(k, v));
      feedSvg.append(line, dot);
    });
    const ring = document.createElementNS(SVG, "circle");
    Object.entries({ cx: tx, cy: ty, r: 5, fill: "none", stroke: "#1d2330", "stroke-width": 2 }).forEach(([k, v]) => ring.setAttribute(k, v));
    feedSvg.append(ring);
  }
  window.addEventListener("resize", () => drawFeeds());

  // ------------------------------------------------------------------ one unit, explained
  function grid(values2d, colour, numbers = true, caption = "") {
    const rows = values2d.length, cols = values2d[0].length;
    const g = Lab.el("div", { class: "kgrid" });
    g.style.gridTemplateColumns = `repeat(${cols}, ${numbers ? 34 : 12}px)`;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
      const v = values2d[i][j], c = colour(v);
      const s = Lab.el("span", { text: numbers ? v.toFixed(2).replace("-0.00", "0.00") : "", title: Lab.fmt(v, 4) });
      s.style.background = Lab.css(c);
      if (!numbers) { s.style.width = "12px"; s.style.height = "12px"; }
      s.style.color = (c[0] * 0.3 + c[1] * 0.59 + c[2] * 0.11) < 120 ? "#fff" : "#1d2330";
      g.append(s);
    }
    return caption ? Lab.el("div", { class: "kfig" }, g, Lab.el("span", { text: caption })) : g;
  }
  const maxAbs = a => Math.max(1e-9, ...a.flat(3).map(Math.abs));

  async function explain(layer, unit, drawing) {
    let d;
    try {
      d = await Lab.api("/api/digits/unit", { drawing: drawing || (() => { const s = snapshot(); delete s.any; return s; })(), layer, unit,
                                               model: which });
    } catch (e) { return; }
    selected = { layer, unit, rf: d.receptive_field };
    if (result) render(result);
    const body = $("#unit-body");
    body.replaceChildren();
    body.classList.remove("muted");
    const where = unit.length === 3 ? `map ${unit[0]}, row ${unit[1]}, column ${unit[2]}` : `unit ${unit[0]}` +
      (d.label !== undefined ? ` (class ${d.label})` : "");
    $("#unit-title").textContent = `${d.title.split(":")[0]} · ${where}`;
    const rf = d.receptive_field;
    body.append(Lab.el("div", { class: "small muted", text: `Receptive field: input rows ${rf[0]}–${rf[2]}, columns ${rf[1]}–${rf[3]} (outlined on the input).` }));
    if (d.kind === "input") {
      body.append(Lab.el("div", { class: "eq", text: `pixel value x = ${Lab.fmt(d.value, 3)}` }));
    } else if (d.kind === "conv") {
      body.append(Lab.el("div", { class: "notice small", text: `The same weights at every position: ${d.shared}.` }));
      const C = d.kernel.length, k = maxAbs(d.kernel);
      const numbers = C === 1 && d.kernel[0].length <= 7;
      const wrap = Lab.el("div");
      for (let c = 0; c < Math.min(C, 16); c++) {
        const prod = d.patch[c].map((row, i) => row.map((x, j) => x * d.kernel[c][i][j]));
        const pm = maxAbs(d.patch);
        wrap.append(Lab.el("div", {}, ...(C > 1 ? [Lab.el("div", { class: "small muted", text: `input map ${c}` })] : []),
          grid(d.patch[c], v => Lab.sequential(v / pm), numbers, "patch x"),
          grid(d.kernel[c], v => Lab.diverging(v / k), numbers, "kernel w"),
          ...(numbers ? [grid(prod, v => Lab.diverging(v / maxAbs(prod)), true, "w·x")] : [])));
      }
      body.append(wrap);
      body.append(Lab.el("div", { class: "eq", text: `z = Σ w·x + b = ${Lab.fmt(d.weighted_sum - d.bias, 4)} + (${Lab.fmt(d.bias, 4)}) = ${Lab.fmt(d.weighted_sum, 4)}` }));
      body.append(Lab.el("div", { class: "eq", text: `a = ${d.activation_name}(z) = ${Lab.fmt(d.activation, 4)}` }));
    } else if (d.kind === "pool") {
      const m = maxAbs(d.window);
      body.append(Lab.el("div", { class: "small muted", text: `the ${d.rule} of this window of the layer before:` }),
                  grid(d.window, v => Lab.sequential(v / m), true, "window"),
                  Lab.el("div", { class: "eq", text: `a = ${d.rule}(window) = ${Lab.fmt(d.activation, 4)}` }));
    } else {
      const w = Lab.decode(d.weights), x = Lab.decode(d.inputs), shape = d.weights.shape;
      const m = Math.max(1e-9, ...Array.from(w, Math.abs));
      body.append(Lab.el("div", { class: "small muted", text: `its ${w.length} weights, drawn in the shape of what feeds it (${shape.join(" × ")}; blue +, orange −):` }));
      const maps = Lab.el("div", { class: "maps" });
      if (shape.length === 3) {
        const [C, H, W] = shape, cell = Math.max(2, Math.floor(56 / H));
        for (let c = 0; c < C; c++) {
          const cv = Lab.el("canvas", { class: "pixel", width: W * cell, height: H * cell });
          Lab.heatmap(cv, w, W, H, v => Lab.diverging(v / m), { offset: c * H * W });
          maps.append(cv);
        }
      } else {
        const cols = Math.min(w.length, 42), cv = Lab.el("canvas", { width: cols * 8, height: Math.ceil(w.length / cols) * 8 });
        const g = cv.getContext("2d");
        w.forEach((v, i) => { g.fillStyle = Lab.css(Lab.diverging(v / m)); g.fillRect((i % cols) * 8, Math.floor(i / cols) * 8, 7, 7); });
        maps.append(cv);
      }
      body.append(maps);
      const t = Lab.el("table", { class: "data small" });
      t.append(Lab.el("tr", {}, Lab.el("th", { text: "input" }), Lab.el("th", { text: "x" }), Lab.el("th", { text: "w" }), Lab.el("th", { text: "w·x" })));
      for (const top of d.top_inputs.slice(0, 6)) {
        t.append(Lab.el("tr", {}, Lab.el("td", { text: `#${top.index}` }), Lab.el("td", { text: Lab.fmt(top.input, 3) }),
                        Lab.el("td", { text: Lab.fmt(top.weight, 3) }), Lab.el("td", { text: Lab.fmt(top.product, 3) })));
      }
      body.append(Lab.el("div", { class: "small muted", text: "the largest contributions:" }), t);
      body.append(Lab.el("div", { class: "eq", text: `z = Σ w·x + b = ${Lab.fmt(d.weighted_sum, 4)}  (over all ${x.length} inputs; b = ${Lab.fmt(d.bias, 4)})` }));
      body.append(Lab.el("div", { class: "eq", text: d.kind === "softmax" ?
        `p = e^z / Σ e^z' = ${Lab.fmt(d.activation, 4)}  (the probability of "${d.label}")` :
        `a = ${d.activation_name}(z) = ${Lab.fmt(d.activation, 4)}` }));
    }
    drawFeeds();                                         // the layers below moved: the lines follow
  }

  // ------------------------------------------------------------------ the model: ready, or being trained
  async function watchModel() {
    let status;
    try { status = await Lab.api("/api/digits/status", undefined, { quiet: true }); } catch (e) {
      setTimeout(watchModel, 2000); return;
    }
    const box = $("#model-status");
    if (status.state === "ready") {
      box.hidden = true;
      loaded = status.model;
      document.dispatchEvent(new CustomEvent("digits:ready", { detail: loaded }));
      if (which === "loaded") use("loaded", loaded);
      return;
    }
    box.hidden = false;
    $("#model-message").textContent = status.message || status.state;
    const p = status.progress || {};
    $("#train-progress").firstElementChild.style.width = `${Math.round(100 * (p.fraction || 0))}%`;
    $("#train-detail").textContent = p.epoch ? `epoch ${p.epoch} of ${p.epochs}` + (p.batch ? `, batch ${p.batch} of ${p.batches}` : "") +
      (p.loss !== undefined ? `, loss ${Lab.fmt(p.loss, 3)}` : "") + (p.test_accuracy !== undefined ? `, test accuracy ${(100 * p.test_accuracy).toFixed(1)} %` : "") : "";
    if (status.state === "failed") { $("#train-progress").hidden = true; return; }
    setTimeout(watchModel, 500);
  }

  // which model guesses: the loaded one, or the live one (digits-learn.js sends "digits:use")
  const panelHome = $("#unit-panel").parentElement, unitHelp = $("#unit-body").textContent;
  function use(name, description) {
    which = name; model = description;
    selected = null; result = null; unhover();
    const panel = $("#unit-panel");
    if (panel.parentElement !== panelHome) {             // back from under a layer: the layers are rebuilt
      panel.classList.remove("beside-layer");
      panelHome.append(panel);
      $("#unit-title").textContent = "Click a unit";
      $("#unit-body").replaceChildren(unitHelp);
      $("#unit-body").classList.add("muted");
    }
    buildLayers();
    if (inkDrawn) predict(); else showBlank();
  }
  document.addEventListener("digits:use", e => {
    const { which: name, model: description } = e.detail;
    if (name === "loaded" && !loaded) return;
    use(name, name === "loaded" ? loaded : description);
  });

  document.addEventListener("DOMContentLoaded", () => { clearPad(); watchModel(); });
})();
