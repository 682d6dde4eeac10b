// Playground: a session on the server holds the points and the network; this page sends settings, clicks and
// "step" requests, and draws what comes back. The whole setup lives in the URL's hash.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const PLANE = 2, LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
  const DATASETS = { classification: ["xor", "circles", "spiral", "moons", "gaussians", "custom"],
                     regression: ["plane", "bumps", "custom"] };
  const MANY_CLASSES = ["spiral", "gaussians", "custom"];       // where 3 to 5 classes can be chosen
  // the classes' colours (Okabe & Ito's, safe for colour-blind eyes) and, past A and B, their shapes too
  const NAMES = "ABCDE", CLASS_COLOURS = [null, null, [0, 158, 115], [204, 121, 167], [240, 228, 66]];
  const EDGES = ["#8a4b00", "#04466f", "#00513b", "#7a3a62", "#6b6300"];
  const SHAPES = ["circle", "circle", "triangle", "square", "diamond"];
  const DEFAULTS = { problem: "classification", dataset: "xor", classes: 2, points: 200, noise: 0.1, seed: 0, test_fraction: 0.25, hidden: [4, 4],
                     activation: "tanh", loss: "bce", optimizer: "adam", lr: 0.03, batch_size: 16, dropout: 0,
                     features: ["x1", "x2"], regularization: "none", reg_rate: 0 };
  // what the network may read of a point (x₁, x₂): each one's value over the plane, as (x₁, x₂) -> number
  const FEATURES = [["x1", "x₁", (a, b) => a], ["x2", "x₂", (a, b) => b], ["x1sq", "x₁²", (a, b) => a * a],
                    ["x2sq", "x₂²", (a, b) => b * b], ["x1x2", "x₁x₂", (a, b) => a * b],
                    ["sinx1", "sin x₁", (a, b) => Math.sin(a)], ["sinx2", "sin x₂", (a, b) => Math.sin(b)]];
  const RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  // a data set's own starting network, where the page's default (4, 4) does not solve it in 20 s of play
  const DATASET_SETUP = { spiral: { hidden: [8, 8] }, bumps: { hidden: [8, 8] } };
  // a problem's own starting point: its first data set and a loss it can use
  const PROBLEM_SETUP = { classification: { dataset: "xor", loss: "bce", classes: 2 },
                          regression: { dataset: "plane", loss: "mse", classes: 2 } };
  const MAX_URL_POINTS = 500, MAX_CSV_BYTES = 200000;

  let cfg = { ...DEFAULTS }, sid = null, points = [], custom = false;
  let hist = { step: [], loss: [], test: [] };
  let playing = false, frames = 0, rendered = "", busy = false, trainPoints = 0, shown = null, lastLayers = null;
  let wanted = null, configs = Promise.resolve();
  let upsTimes = [];
  const classColour = k => (k === 0 ? Lab.A : k === 1 ? Lab.B : CLASS_COLOURS[k]);
  const regression = () => cfg.problem === "regression";

  // ------------------------------------------------------------------ the URL's hash <-> the setup
  // 5 bytes a point ("p2"): x, y in 12 bits each, the test flag, then a byte for the label (a class, or the
  // regression target t in [-1, 1] as round(127.5 (t + 1))); "pts" (4 bytes: 1 bit of label) is still read
  function packPoints(pts, reg) {
    const bytes = new Uint8Array(5 * pts.length);
    pts.forEach((p, i) => {
      const qx = Math.round((p[0] + PLANE) / (2 * PLANE) * 4095), qy = Math.round((p[1] + PLANE) / (2 * PLANE) * 4095);
      const v = (qx << 13) | (qy << 1) | (p[3] ? 1 : 0);
      bytes[5 * i] = (v >>> 17) & 255; bytes[5 * i + 1] = (v >>> 9) & 255; bytes[5 * i + 2] = (v >>> 1) & 255;
      bytes[5 * i + 3] = ((v & 1) << 7);
      bytes[5 * i + 4] = reg ? Math.round(127.5 * (Math.max(-1, Math.min(1, p[2])) + 1)) : p[2];
    });
    return Lab.b64bytes(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unpackPoints(s, version, reg) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    const at = i => bin.charCodeAt(i), pts = [], xy = q => q / 4095 * 2 * PLANE - PLANE;
    if (version === 1) {
      for (let i = 0; i + 3 < bin.length; i += 4) {
        const v = ((at(i) << 24) | (at(i + 1) << 16) | (at(i + 2) << 8) | at(i + 3)) >>> 0;
        pts.push([xy((v >>> 14) & 4095), xy((v >>> 2) & 4095), (v >>> 1) & 1, v & 1]);
      }
      return pts;
    }
    for (let i = 0; i + 4 < bin.length; i += 5) {
      const v = (at(i) << 17) | (at(i + 1) << 9) | (at(i + 2) << 1) | (at(i + 3) >>> 7);
      const label = reg ? Math.round((at(i + 4) / 127.5 - 1) * 100) / 100 : at(i + 4);
      pts.push([xy((v >>> 13) & 4095), xy((v >>> 1) & 4095), label, v & 1]);
    }
    return pts;
  }
  function writeHash() {
    const q = new URLSearchParams({ problem: cfg.problem, dataset: cfg.dataset, classes: cfg.classes, points: cfg.points, noise: cfg.noise, seed: cfg.seed,
      test: cfg.test_fraction, hidden: cfg.hidden.join(","), activation: cfg.activation, loss: cfg.loss,
      optimizer: cfg.optimizer, lr: cfg.lr, batch: cfg.batch_size, dropout: cfg.dropout,
      features: cfg.features.join(","), reg: cfg.regularization, rate: cfg.reg_rate });
    if (custom && points.length <= MAX_URL_POINTS) q.set("p2", packPoints(points, regression()));
    const lost = custom && points.length > MAX_URL_POINTS;
    $("#url-note").hidden = !lost;
    $("#url-note").textContent = lost ? `The address holds at most ${MAX_URL_POINTS} points: a link to this page ` +
      `brings the setup but not your ${points.length} points (share the CSV file with it).` : "";
    history.replaceState(null, "", "#" + q.toString());
  }
  function readHash() {
    const q = new URLSearchParams(location.hash.slice(1));
    const c = { ...DEFAULTS };
    const num = (k, key) => { if (q.has(k) && q.get(k) !== "" && Number.isFinite(+q.get(k))) c[key] = +q.get(k); };
    if (q.has("dataset")) c.dataset = q.get("dataset");
    if (q.has("problem")) c.problem = q.get("problem");
    num("classes", "classes"); num("points", "points"); num("noise", "noise"); num("seed", "seed"); num("test", "test_fraction");
    num("lr", "lr"); num("batch", "batch_size"); num("dropout", "dropout"); num("rate", "reg_rate");
    if (q.has("features") && q.get("features")) c.features = q.get("features").split(",");
    if (q.has("reg")) c.regularization = q.get("reg");
    if (q.has("hidden")) c.hidden = q.get("hidden") === "" ? [] : q.get("hidden").split(",").map(Number);
    for (const k of ["activation", "loss", "optimizer"]) if (q.has(k)) c[k] = q.get(k);
    let pts = null;
    for (const [key, version] of [["pts", 1], ["p2", 2]]) {
      if (q.has(key)) {
        try { pts = unpackPoints(q.get(key), version, c.problem === "regression"); } catch (e) { Lab.showError("the points in the address could not be read"); }
      }
    }
    return { config: c, points: pts };
  }

  // ------------------------------------------------------------------ talking to the session
  async function start() {
    const { config, points: pts } = readHash();
    const body = { config };
    if (pts) body.points = pts;
    let st;
    try { st = await Lab.api("/api/playground/sessions", body); } catch (e) {
      st = await Lab.api("/api/playground/sessions", { config: DEFAULTS });   // a bad shared setup: start fresh
    }
    sid = st.id;
    apply(st);
    writeHash();
  }
  async function call(path, body) {
    try { return await Lab.api(`/api/playground/${sid}${path}`, body); } catch (e) {
      if (e.status === 404) { stop(); await start(); }
      throw e;
    }
  }
  // settings changes, one after another: each request carries every change asked for so far, so two quick
  // changes never lose the first
  function setConfig(partial, regenerate = false) {
    wanted = { ...(wanted || cfg), ...partial };
    const next = wanted;
    configs = configs.then(async () => {
      const was = playing;
      stop();
      try {
        apply(await call("/config", { config: next, regenerate }));
      } catch (e) { syncControls(); return; } finally { if (wanted === next) wanted = null; }
      writeHash();
      if (was) play();
    });
    return configs;
  }

  function apply(st) {
    if (st.config) cfg = st.config;
    if (st.points) { points = st.points; custom = st.custom; }
    if (st.history) {
      hist = { step: st.history.map(h => h[0]), loss: st.history.map(h => h[1]), test: st.history.map(h => h[2]) };
    } else if (st.loss !== null && st.loss !== undefined) {
      hist.step.push(st.step); hist.loss.push(st.loss); hist.test.push(st.test_loss);
      if (hist.step.length > 2000) for (const k in hist) hist[k] = hist[k].filter((_, i) => i % 2 === 0);
    }
    if (st.config) syncControls();          // not on every step: rebuilding a <select> would close it
    drawPlane(st);
    if (st.weights) lastWeights = st.weights;
    if (st.neurons) drawNeurons(st.neurons);
    drawCurves();
    $("#s-step").textContent = st.step;
    $("#s-epoch").textContent = Lab.fmt(st.epoch, 1);
    $("#s-loss").textContent = Lab.fmt(st.loss, 4);
    $("#s-test-loss").textContent = Lab.fmt(st.test_loss, 4);
    $("#s-acc").textContent = st.accuracy === null ? "–" : `${Math.round(100 * st.accuracy)}%`;
    $("#s-acc").parentElement.hidden = regression();
    $("#s-test-acc").textContent = st.test_accuracy === null ? "–" : `${Math.round(100 * st.test_accuracy)}%`;
    trainPoints = st.train_points;
    $("#out-note").textContent = `${st.train_points} training + ${st.test_points} test points · ${st.parameters} thetas`;
    if (st.diverged) { stop(); Lab.showError("The loss is no longer a finite number: the learning rate is too large. Lower it, then Reset."); }
    if (st.scaling) $("#data-note").textContent = "CSV: " +
      (st.csv_labels ? st.csv_labels.map((v, k) => `class ${NAMES[k]} = ${v}`).join(", ") + "; " : "") +
      st.scaling.map((s, j) => `${s.column} from [${Lab.fmt(s.min)}, ${Lab.fmt(s.max)}]`).join(", ") +
      (st.csv_labels ? " scaled into the plane" : " scaled into the plane and [-1, 1]");
    else if (st.points) $("#data-note").textContent = custom ? "your own points" : "";
  }

  // ------------------------------------------------------------------ play, step, reset
  let run = 0;                                         // each play() loop's own number: an older one ends
  async function play() {
    if (playing) return;
    playing = true;
    const mine = ++run, live = () => playing && run === mine;
    $("#play").textContent = "❚❚ Pause";
    // the next update is asked for before this one is drawn: the server trains while the browser paints
    // every neuron's map on every other update (every fourth past 64 neurons); the boundary on each
    const ask = () => call("/step", { steps: stepsPerUpdate(),
                                      neurons: frames % (cfg.hidden.reduce((a, b) => a + b, 0) <= 64 ? 2 : 4) === 0 });
    let next = ask();
    while (live()) {
      let st;
      try { st = await next; } catch (e) { if (run === mine) stop(); break; }
      if (!live() || !st) break;              // paused (or replaced by a newer loop) while the answer was coming
      next = ask();
      if (next) next.catch(() => {});                  // a failure is handled when it is awaited
      frames++;
      const now = performance.now();
      upsTimes.push(now);
      while (upsTimes.length && now - upsTimes[0] > 1000) upsTimes.shift();
      $("#s-ups").textContent = upsTimes.length;
      apply(st);
      await new Promise(r => requestAnimationFrame(r));
    }
  }
  function stop() { playing = false; $("#play").textContent = "▶ Play"; }
  // "1 epoch": as many steps as one pass over the training points takes (TensorFlow Playground's frame)
  function stepsPerUpdate() {
    const v = $("#speed").value;
    if (v !== "epoch") return +v;
    return cfg.optimizer === "gd" ? 1 : Math.max(1, Math.min(500, Math.ceil(trainPoints / cfg.batch_size)));
  }
  $("#play").addEventListener("click", () => (playing ? stop() : play()));
  $("#step").addEventListener("click", async () => { stop(); try { apply(await call("/step", { steps: stepsPerUpdate() })); } catch (e) {} });
  $("#reset").addEventListener("click", async () => {
    stop();
    try { apply(await call("/reset", {})); } catch (e) {}
  });

  // ------------------------------------------------------------------ the plane
  const plane = $("#plane");
  const toPx = (x, y) => [(x + PLANE) / (2 * PLANE) * plane.width, (PLANE - y) / (2 * PLANE) * plane.height];
  let boundary = null, boundaryKind = "probability";
  // the output over the plane as its kind says: P(B) (two classes), the likeliest class and its probability
  // (more classes), or ŷ (regression); "discretize" shows the decision alone (regression: the sign of ŷ)
  function outputColour(kind, hard) {
    if (kind === "regions") return v => {
      const k = Math.floor(v / 51), p = (v % 51) / 50, floor = 1 / cfg.classes;
      return Lab.mix([255, 255, 255], classColour(k), hard ? 0.6 : 0.1 + 0.6 * Math.max(0, (p - floor) / (1 - floor)));
    };
    return v => Lab.mix([255, 255, 255], Lab.diverging(hard ? (v > 127.5 ? 1 : -1) : 2 * v / 255 - 1), 0.6);
  }
  function drawPlane(st) {
    if (st && st.boundary) { boundary = st.boundary; boundaryKind = st.boundary_kind || "probability"; }
    const g = plane.getContext("2d");
    const hard = $("#discretize").checked;               // P(B) > 1/2 or not: the decision itself
    const big = shown && lastLayers && lastLayers[shown.layer];
    if (big) {                                           // a neuron shown large: its output over the plane
      const q = Lab.decode(big), n = big.shape[1];
      Lab.heatmap(plane, q, n, n, v => Lab.mix([255, 255, 255], neuronColour(big, shown.unit)(v), 0.6),
                  { offset: shown.unit * n * n, smooth: true });
    } else if (boundary) {
      const p = Lab.decode(boundary), n = boundary.shape[0];
      Lab.heatmap(plane, p, n, n, outputColour(boundaryKind, hard), { smooth: !hard && boundaryKind !== "regions" });
    } else { g.fillStyle = "#fff"; g.fillRect(0, 0, plane.width, plane.height); }
    $("#plane-note").textContent = big ? `showing ${shown.name} over the plane: click it again, or here, for the output` : "";
    $("#plane-note").hidden = !big;
    if (cursor) {                                        // the keyboard's cross
      const [x, y] = toPx(cursor[0], cursor[1]);
      g.strokeStyle = "#000"; g.lineWidth = 2; g.beginPath();
      g.moveTo(x - 9, y); g.lineTo(x + 9, y); g.moveTo(x, y - 9); g.lineTo(x, y + 9); g.stroke();
    }
    g.strokeStyle = "rgba(0,0,0,.08)"; g.lineWidth = 1;
    for (let t = -PLANE + 1; t < PLANE; t++) {
      const [x] = toPx(t, 0), [, y] = toPx(0, t);
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, plane.height); g.moveTo(0, y); g.lineTo(plane.width, y); g.stroke();
    }
    const showTest = $("#show-test").checked, reg = regression();
    for (const p of points) {
      if (p[3] && !showTest) continue;
      const [x, y] = toPx(p[0], p[1]);
      // a class's colour and shape (regression: the target's colour, orange −1 to blue +1), with an edge in a
      // dark shade of it: the orange and the yellow read on white (2.3:1 alone)
      mark(g, x, y, reg ? "circle" : SHAPES[p[2]]);
      g.fillStyle = Lab.css(reg ? Lab.diverging(p[2]) : classColour(p[2])); g.fill();
      g.lineWidth = p[3] ? 1.5 : 1; g.strokeStyle = p[3] ? "#000" : (reg ? "#333" : EDGES[p[2]]); g.stroke();
    }
  }
  function mark(g, x, y, shape) {
    g.beginPath();
    if (shape === "triangle") { g.moveTo(x, y - 5.5); g.lineTo(x + 5, y + 3.5); g.lineTo(x - 5, y + 3.5); g.closePath(); }
    else if (shape === "square") g.rect(x - 4, y - 4, 8, 8);
    else if (shape === "diamond") { g.moveTo(x, y - 5.5); g.lineTo(x + 5, y); g.lineTo(x, y + 5.5); g.lineTo(x - 5, y); g.closePath(); }
    else g.arc(x, y, 4, 0, 2 * Math.PI);
  }
  plane.addEventListener("click", async e => {
    const r = plane.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * 2 * PLANE - PLANE, y = PLANE - ((e.clientY - r.top) / r.height) * 2 * PLANE;
    await addPoint(x, y, e.shiftKey);
  });
  // one point of the chosen class (Shift: the other of A and B; regression: the chosen target t): drawn at once,
  // taken back if the server refuses it
  async function addPoint(x, y, other) {
    const chosen = addClass();
    const label = regression() ? +$("#add-target").value : other && chosen < 2 ? 1 - chosen : chosen;
    points.push([x, y, label, false]);
    drawPlane();
    try { apply(await call("/points", { add: [[x, y, label]] })); writeHash(); } catch (err) { points.pop(); drawPlane(); }
  }
  let cursor = null;                                     // the keyboard's cross on the plane, in plane units
  plane.addEventListener("keydown", async e => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (e.key in moves) {
      e.preventDefault();
      cursor = cursor || [0, 0];
      const [dx, dy] = moves[e.key], step = e.shiftKey ? 0.5 : 0.1;
      cursor = [Math.max(-PLANE, Math.min(PLANE, cursor[0] + dx * step)), Math.max(-PLANE, Math.min(PLANE, cursor[1] + dy * step))];
      drawPlane();
    } else if ((e.key === "Enter" || e.key === " ") && cursor) {
      e.preventDefault();
      await addPoint(cursor[0], cursor[1], e.shiftKey);
    }
  });
  plane.addEventListener("blur", () => { cursor = null; drawPlane(); });
  $("#show-test").addEventListener("change", () => drawPlane());
  $("#discretize").addEventListener("change", () => drawPlane());
  $("#plane-note").addEventListener("click", () => { shown = null; markShown(); drawPlane(); });
  function addClass() {
    const on = document.querySelector('#add-classes input:checked');
    return on ? +on.value : 0;
  }
  function classRadios() {                             // one radio per class: no Shift key needed (touch screens)
    const box = $("#add-classes"), n = regression() ? 0 : cfg.classes;
    if (box.childElementCount !== n) {
      const was = Math.min(addClass(), Math.max(0, n - 1));
      box.replaceChildren(...[...Array(n).keys()].map(k => Lab.el("label", {},
        Lab.el("input", { type: "radio", name: "add-class", id: `add-${NAMES[k].toLowerCase()}`, value: k, ...(k === was ? { checked: "" } : {}) }),
        classMark(k), ` class ${NAMES[k]} `)));
    }
    $("#add-target-label").hidden = $("#t-key").hidden = !regression();
  }
  function classMark(k) {                              // the class's colour and shape, as its points are drawn
    const c = Lab.el("canvas", { width: 14, height: 14, class: "class-mark", "aria-hidden": "true" });
    const g = c.getContext("2d");
    mark(g, 7, 7, SHAPES[k]);
    g.fillStyle = Lab.css(classColour(k)); g.fill();
    g.lineWidth = 1; g.strokeStyle = EDGES[k]; g.stroke();
    return c;
  }
  $("#add-target").addEventListener("input", e => { $("#v-target").textContent = e.target.value; });
  // a neuron's colours: a class's probability from white to its colour; P(B) and the hidden units diverging
  function neuronColour(layer, unit) {
    if (layer.kind === "output" && cfg.classes > 2) return v => Lab.mix([255, 255, 255], classColour(unit), v / 127);
    const sig = layer.kind === "output" || (layer.kind === "hidden" && cfg.activation === "sigmoid");
    return v => Lab.diverging(sig ? 2 * (v / 127) - 1 : v / 127);
  }
  function outputName(unit) {
    return regression() ? "the output ŷ" : cfg.classes > 2 ? `the output P(${NAMES[unit]})` : "the output P(B)";
  }
  function markShown() {
    for (const c of document.querySelectorAll("#neurons canvas[data-layer]"))
      c.classList.toggle("shown", !!shown && +c.dataset.layer === shown.layer && +c.dataset.unit === shown.unit);
  }
  $("#neurons").addEventListener("keydown", e => {    // the keyboard: Enter or Space on a thumbnail
    if ((e.key === "Enter" || e.key === " ") && e.target.matches("canvas[data-layer]")) { e.preventDefault(); e.target.click(); }
  });
  $("#neurons").addEventListener("click", e => {      // a neuron's thumbnail: show it large on the output
    const c = e.target.closest("canvas[data-layer]");
    if (!c) return;
    const layer = +c.dataset.layer, unit = +c.dataset.unit;
    shown = shown && shown.layer === layer && shown.unit === unit ? null :
      { layer, unit, name: layer === cfg.hidden.length ? outputName(unit) : `neuron ${unit + 1} of hidden layer ${layer + 1}` };
    markShown();
    drawPlane();
  });

  // ------------------------------------------------------------------ the neurons
  function drawNeurons(layers) {
    const shape = [cfg.hidden.join(","), cfg.activation, cfg.features.join(","), cfg.problem, cfg.classes].join("|");
    const box = $("#neurons");
    if (rendered !== shape) {
      rendered = shape;
      box.replaceChildren();
      const inputs = Lab.el("div", { class: "neuron-col" }, Lab.el("div", { class: "lab", text: "inputs" }));
      for (const [key, name, f] of FEATURES) {           // each feature over the plane; a click takes it in or out
        const on = cfg.features.includes(key);
        const c = Lab.el("canvas", { width: 40, height: 40 });
        const v = new Float32Array(32 * 32).map((_, k) => {
          const a = (k % 32) / 15.5 - 1, b = 1 - Math.floor(k / 32) / 15.5;
          return Math.max(-1, Math.min(1, f(PLANE * a, PLANE * b) / (key.endsWith("sq") || key === "x1x2" ? 4 : key.startsWith("sin") ? 1 : PLANE)));
        });
        Lab.heatmap(c, v, 32, 32, Lab.diverging, { smooth: true });
        const b = Lab.el("button", { class: "feature" + (on ? " on" : ""), "aria-pressed": on ? "true" : "false",
                                     title: on ? `${name}: an input (click to leave it out)` : `${name}: not an input (click to feed it to the network)`,
                                     "data-feature": key, onclick: () => toggleFeature(key) }, c, Lab.el("span", { text: name }));
        inputs.append(b);
      }
      box.append(inputs);
      cfg.hidden.forEach((units, li) => {
        const col = Lab.el("div", { class: "neuron-col" });
        col.append(Lab.el("div", { class: "layer-edit" },
          Lab.el("button", { text: "−", title: "one neuron fewer", onclick: () => editLayer(li, -1) }),
          Lab.el("span", { text: `${units}` }),
          Lab.el("button", { text: "+", title: "one neuron more", onclick: () => editLayer(li, +1) })));
        col.append(Lab.el("div", { class: "lab", text: `hidden ${li + 1} · ${cfg.activation}` }));
        for (let u = 0; u < units; u++) col.append(Lab.el("canvas", { width: 52, height: 52, "data-layer": li, "data-unit": u,
          title: "click: show it large on the output", tabindex: 0, role: "button",
          "aria-label": `neuron ${u + 1} of hidden layer ${li + 1}: show its output large on the plane` }));
        box.append(col);
      });
      const outputs = regression() || cfg.classes === 2 ? 1 : cfg.classes;
      const out = Lab.el("div", { class: "neuron-col" }, Lab.el("div", { class: "lab", text:
        regression() ? "output ŷ" : outputs === 1 ? "output P(B)" : "output softmax" }));
      for (let u = 0; u < outputs; u++) {
        out.append(Lab.el("canvas", { width: 52, height: 52, "data-layer": cfg.hidden.length, "data-unit": u,
                                      title: `${outputName(u).replace("the output ", "")}: click to show it large`,
                                      tabindex: 0, role: "button", "aria-label": `${outputName(u)}: show it large on the plane` }));
      }
      box.append(out);
      $("#net-note").textContent = `${cfg.hidden.length} hidden layer${cfg.hidden.length === 1 ? "" : "s"}` +
        ` · at most 6 layers of 32`;
    }
    lastLayers = layers;
    if (lastWeights && (!playing || frames % 4 === 0 || !linkLayout)) drawLinks(lastWeights);   // links move slowly
    if (shown && !(layers[shown.layer] && shown.unit < layers[shown.layer].shape[0])) shown = null;
    if (shown) drawPlane();
    layers.forEach((layer, li) => {
      const q = Lab.decode(layer), n = layer.shape[1];
      for (let u = 0; u < layer.shape[0]; u++) {
        const c = box.querySelector(`canvas[data-layer="${li}"][data-unit="${u}"]`);
        if (c) Lab.heatmap(c, q, n, n, neuronColour(layer, u), { offset: u * n * n, smooth: true });
      }
    });
  }
  // the links between neurons, drawn by weight: colour its sign, width its size; hover to read, click to set it
  let lastWeights = null, linkLayout = null;
  function drawLinks(weights) {
    const box = $("#neurons");
    let svg = box.querySelector("svg.links");
    if (!svg) {
      svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "links");
      box.prepend(svg);
    }
    // where each link runs depends only on the layout: measured once per network shape and box size
    const key = `${rendered}|${box.clientWidth}|${weights.map(W => W.length + "x" + W[0].length).join(",")}`;
    svg.setAttribute("width", box.scrollWidth); svg.setAttribute("height", box.scrollHeight);
    if (!linkLayout || linkLayout.key !== key) {
      const origin = box.getBoundingClientRect();
      const at = (el, side) => {
        const r = el.getBoundingClientRect();
        return [(side === "right" ? r.right : r.left) - origin.left + box.scrollLeft, r.top + r.height / 2 - origin.top + box.scrollTop];
      };
      const sources = [[...box.querySelectorAll("button.feature.on")]];
      cfg.hidden.forEach((_, li) => sources.push([...box.querySelectorAll(`canvas[data-layer="${li}"]`)]));
      const outs = [...box.querySelectorAll(`canvas[data-layer="${cfg.hidden.length}"]`)];
      const names = [cfg.features.map(f => (FEATURES.find(x => x[0] === f) || [f, f])[1]),
                     ...cfg.hidden.map((n, li) => [...Array(n).keys()].map(u => `neuron ${u + 1} of hidden layer ${li + 1}`))];
      const links = [];
      weights.forEach((W, layer) => {
        const targets = layer < cfg.hidden.length ? sources[layer + 1] : outs;
        const two = layer === cfg.hidden.length && W.length === 2 && cfg.classes === 2;   // softmax: P(B) reads w_B − w_A
        (two ? [W[1]] : W).forEach((row, unit) => row.forEach((_, source) => {
          const a = sources[layer][source], b = targets[unit];
          if (!a || !b) return;
          const [x1, y1] = at(a, "right"), [x2, y2] = at(b, "left");
          const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
          Object.entries({ x1, y1, x2, y2, "data-layer": layer, "data-unit": unit, "data-source": source,
                           class: two ? "link fixed" : "link" }).forEach(([k, v]) => line.setAttribute(k, v));
          const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
          line.append(title);
          const to = layer < cfg.hidden.length ? names[layer + 1][unit] : outs.length > 1 ? `the output for class ${NAMES[unit]}` : "the output";
          links.push({ line, title, layer, unit, source, two, what: `from ${names[layer][source]} to ${to}` });
        }));
      });
      svg.replaceChildren(...links.map(l => l.line));
      linkLayout = { key, links };
    }
    // what changes every update: each link's colour (the sign), width (the size) and its title
    const span = Math.max(1e-6, ...weights.flat(2).map(Math.abs));
    for (const l of linkLayout.links) {
      const W = weights[l.layer], w = l.two ? W[1][l.source] - W[0][l.source] : W[l.unit][l.source];
      l.line.setAttribute("stroke", Lab.css(w >= 0 ? Lab.B : Lab.A));
      l.line.setAttribute("stroke-width", (0.5 + 4 * Math.abs(w) / span).toFixed(2));
      l.w = w;
      if (l.title.textContent) nameLink(l);           // a title already read: kept current
    }
  }
  function nameLink(l) {
    l.title.textContent = `w = ${Lab.fmt(l.w, 4)}: ${l.what}` + (l.two ? " (w_B − w_A of the softmax's two outputs)" : "; click to set it");
  }
  $("#neurons").addEventListener("mouseover", e => {   // a link's title, written when it is hovered
    const l = linkLayout && linkLayout.links.find(x => x.line === e.target);
    if (l) nameLink(l);
  });
  $("#neurons").addEventListener("click", async e => {
    const line = e.target.closest("line.link");
    if (!line || line.classList.contains("fixed")) return;
    e.stopPropagation();
    const [layer, unit, source] = ["layer", "unit", "source"].map(k => +line.dataset[k]);
    const now = lastWeights[layer][unit][source];
    const l = linkLayout.links.find(x => x.line === line);
    nameLink(l);
    const text = window.prompt(`${l.title.textContent.split(";")[0]}\nNew weight:`, `${now}`);
    if (text === null || text.trim() === "" || !Number.isFinite(+text)) return;
    stop();
    try { apply(await call("/weight", { layer, unit, source, value: +text })); } catch (err) {}
  }, true);

  function toggleFeature(key) {
    const on = cfg.features.includes(key);
    if (on && cfg.features.length === 1) { Lab.showError("the network needs at least one input"); return; }
    setConfig({ features: on ? cfg.features.filter(f => f !== key) : [...cfg.features, key] });
  }
  function editLayer(li, delta) {
    const hidden = cfg.hidden.slice();
    hidden[li] = Math.max(1, Math.min(32, hidden[li] + delta));
    setConfig({ hidden });
  }
  $("#add-layer").addEventListener("click", () => {
    if (cfg.hidden.length >= 6) { Lab.showError("at most 6 hidden layers"); return; }
    setConfig({ hidden: [...cfg.hidden, cfg.hidden.length ? cfg.hidden[cfg.hidden.length - 1] : 4] });
  });
  $("#remove-layer").addEventListener("click", () => { if (cfg.hidden.length) setConfig({ hidden: cfg.hidden.slice(0, -1) }); });

  function drawCurves() {
    Lab.linePlot($("#curves"), [
      { x: hist.step, y: hist.loss, colour: "#1d2330" },
      { x: hist.step, y: hist.test, colour: "#e8590c", dash: [5, 3] },
    ], { xLabel: "step", empty: "press play" });
  }

  // ------------------------------------------------------------------ the controls
  function options(select, values, current) {
    const vals = values.includes(current) ? values : [...values, current].sort((a, b) => a - b);
    select.replaceChildren(...vals.map(v => Lab.el("option", { value: v, text: `${v}` })));
    select.value = `${current}`;
  }
  function syncControls() {
    for (const k of ["activation", "loss", "optimizer"]) $(`#${k}`).value = cfg[k];
    options($("#lr"), LRS, cfg.lr);
    options($("#batch_size"), BATCHES, cfg.batch_size);
    $("#batch_size").disabled = cfg.optimizer === "gd";
    $("#dropout").value = `${cfg.dropout}`;
    $("#regularization").value = cfg.regularization;
    options($("#reg_rate"), RATES, cfg.reg_rate);
    $("#reg_rate").disabled = cfg.regularization === "none";
    $("#points").value = cfg.points; $("#v-points").textContent = cfg.points;
    $("#noise").value = cfg.noise; $("#v-noise").textContent = cfg.noise;
    $("#test_fraction").value = cfg.test_fraction; $("#v-test").textContent = `${Math.round(100 * cfg.test_fraction)}%`;
    $("#seed").value = cfg.seed;
    $("#problem").value = cfg.problem;
    $("#classes").value = `${cfg.classes}`;
    $("#classes-label").hidden = regression();
    $("#classes").disabled = !MANY_CLASSES.includes(cfg.dataset);
    $("#classes").title = $("#classes").disabled ? `${cfg.dataset} has two classes: spiral, gaussians and your own points take 3 to 5` : "";
    for (const o of $("#loss").options) o.disabled = regression() && !["mse", "mae"].includes(o.value);
    $("#csv-what").textContent = regression() ? "your own data: a CSV with x1, x2 and a number to predict"
                                              : "your own data: a CSV with x1, x2, label (2 to 5 classes)";
    const sets = DATASETS[cfg.problem] || DATASETS.classification;
    if ($("#datasets").dataset.problem !== cfg.problem) {
      $("#datasets").dataset.problem = cfg.problem;
      $("#datasets").replaceChildren(...sets.map(name => Lab.el("button", { text: name, "data-name": name,
        onclick: () => setConfig({ dataset: name, ...(DATASET_SETUP[name] || {}),
                                   ...(MANY_CLASSES.includes(name) ? {} : { classes: 2 }) }, true) })));
    }
    for (const b of $("#datasets").children) b.classList.toggle("on", b.dataset.name === cfg.dataset);
    classRadios();
  }
  $("#problem").addEventListener("change", e => setConfig({ problem: e.target.value, ...PROBLEM_SETUP[e.target.value],
                                                            ...(DATASET_SETUP[PROBLEM_SETUP[e.target.value].dataset] || {}) }, true));
  $("#classes").addEventListener("change", e => setConfig({ classes: +e.target.value,
    ...(+e.target.value > 2 && cfg.loss === "bce" ? { loss: "cross_entropy" } : {}) }, cfg.dataset !== "custom"));
  for (const k of ["activation", "loss", "optimizer"]) $(`#${k}`).addEventListener("change", e => setConfig({ [k]: e.target.value }));
  for (const k of ["lr", "batch_size", "dropout", "reg_rate"]) $(`#${k}`).addEventListener("change", e => setConfig({ [k]: +e.target.value }));
  $("#regularization").addEventListener("change", e => setConfig({ regularization: e.target.value,
    reg_rate: e.target.value !== "none" && !cfg.reg_rate ? 0.003 : cfg.reg_rate }));
  for (const k of ["points", "noise", "test_fraction"]) {
    const show = { points: "#v-points", noise: "#v-noise", test_fraction: "#v-test" }[k];
    $(`#${k}`).addEventListener("input", e => { $(show).textContent = k === "test_fraction" ? `${Math.round(100 * e.target.value)}%` : e.target.value; });
    $(`#${k}`).addEventListener("change", e => setConfig({ [k]: +e.target.value }, true));
  }
  $("#seed").addEventListener("change", e => setConfig({ seed: Math.max(0, Math.floor(+e.target.value || 0)) }, true));
  $("#regenerate").addEventListener("click", () => setConfig({ seed: cfg.seed + 1 }, true));
  $("#clear-points").addEventListener("click", async () => {
    stop();
    try { apply(await call("/points", { clear: true })); writeHash(); } catch (e) {}
  });
  $("#csv").addEventListener("change", async e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > MAX_CSV_BYTES) { Lab.showError(`${file.name} is ${file.size.toLocaleString()} bytes; the playground takes CSV files up to ${MAX_CSV_BYTES.toLocaleString()} bytes (2,000 rows)`); return; }
    stop();
    try { apply(await call("/csv", { csv: await file.text() })); writeHash(); } catch (err) {}
  });
  $("#show-code").addEventListener("click", async () => {
    try { $("#code").textContent = (await call("/code")).code; $("#code-modal").hidden = false; } catch (e) {}
  });
  $("#close-code").addEventListener("click", () => { $("#code-modal").hidden = true; });
  $("#code-modal").addEventListener("click", e => { if (e.target.id === "code-modal") $("#code-modal").hidden = true; });
  $("#copy-code").addEventListener("click", () => { navigator.clipboard && navigator.clipboard.writeText($("#code").textContent); });
  window.addEventListener("hashchange", () => {
    const { config } = readHash();
    if (JSON.stringify(config) !== JSON.stringify(cfg)) setConfig(config, true);
  });

  document.addEventListener("DOMContentLoaded", start);
})();
