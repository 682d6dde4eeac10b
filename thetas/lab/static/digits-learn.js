// Digits, continued: "watch it learn" (a LeNet trained on the server from fresh thetas, polled as it goes: its first
// layer's filters, the loss curve, the test accuracy) and the gallery of learned filters (every conv layer's
// kernels) of the loaded model and of the live one. digits.js draws and guesses; this file tells it which model
// to guess with ("digits:use") and hears when the loaded one is ready ("digits:ready").
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const POLL = 500;                          // ms between two looks at a training that runs
  let polling = false;
  const DATA = {
    mnist: s => `MNIST: ${(s.train || 60000).toLocaleString()} training images in batches of ${s.batch || 64}; ` +
      `test accuracy on ${(s.test || 1000).toLocaleString()} held-out test images`,
    digits: s => `scikit-learn's 8×8 digits (MNIST is not on this machine): ${(s.train || 1347).toLocaleString()} ` +
      `training images in batches of ${s.batch || 32}; test accuracy on ${(s.test || 450).toLocaleString()} held-out ones`,
  };

  // ------------------------------------------------------------------ filters, drawn small
  // A filter is a canvas: its kernels (one per input map) side by side, each weight a square; blue w > 0, orange
  // w < 0, white 0 (a diverging scale that colour-blind eyes tell apart), one scale per layer so its filters compare.
  function drawFilters(box, layers, { cell = 6, first = false } = {}) {
    box.replaceChildren();
    box.classList.remove("muted");
    for (const layer of first ? layers.slice(0, 1) : layers) {
      const w = Lab.decode(layer.kernels), [F, C, kh, kw] = layer.shape;
      let m = 1e-9;
      for (const v of w) m = Math.max(m, Math.abs(v));
      const row = Lab.el("div", { class: "filters" });
      const name = layer.title.split(":")[0];
      for (let f = 0; f < F; f++) {
        const cv = Lab.el("canvas", { class: "pixel", width: (C * (kw + 1) - 1) * cell, height: kh * cell, role: "img" });
        const g = cv.getContext("2d");
        g.fillStyle = "#cfd4de"; g.fillRect(0, 0, cv.width, cv.height);
        let lo = Infinity, hi = -Infinity;
        for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
          const v = w[((f * C + c) * kh + i) * kw + j];
          lo = Math.min(lo, v); hi = Math.max(hi, v);
          g.fillStyle = Lab.css(Lab.diverging(v / m));
          g.fillRect((c * (kw + 1) + j) * cell, i * cell, cell, cell);
        }
        cv.setAttribute("aria-label", `${name}, filter ${f}: ${C} kernel${C > 1 ? "s" : ""} of ${kh}×${kw} weights ` +
                        `from ${Lab.fmt(lo, 2)} to ${Lab.fmt(hi, 2)}`);
        cv.title = `${name}, filter ${f}`;
        row.append(cv);
      }
      box.append(Lab.el("div", { class: "filter-layer" },
        Lab.el("h4", { text: `${layer.title} (weights from −${Lab.fmt(m, 2)} to +${Lab.fmt(m, 2)})` }), row));
    }
  }

  function scale() {                        // the gallery's colour scale: orange −, white 0, blue +
    const cv = Lab.el("canvas", { width: 120, height: 10, role: "img", "aria-label": "colour scale: orange for negative weights, white for 0, blue for positive" });
    const g = cv.getContext("2d");
    for (let x = 0; x < 120; x++) { g.fillStyle = Lab.css(Lab.diverging(x / 59.5 - 1)); g.fillRect(x, 0, 1, 10); }
    $("#gallery-scale").replaceChildren(Lab.el("span", { text: "w < 0" }), cv, Lab.el("span", { text: "w > 0" }));
  }

  document.addEventListener("digits:ready", async () => {
    try {
      const r = await Lab.api("/api/digits/filters?model=loaded", undefined, { quiet: true });
      drawFilters($("#gallery-loaded"), r.layers);
      if (!r.layers.length) $("#gallery-loaded").textContent = "this model has no conv layer: no filters to show";
    } catch (e) { $("#gallery-loaded").textContent = e.message; }
  });

  // ------------------------------------------------------------------ watch it learn
  function show(s) {
    const p = s.progress || {};
    const running = s.state === "training";
    $("#live-start").disabled = running;
    $("#live-stop").disabled = !running;
    $("#live-steps").max = s.max_steps || 3000;
    $("#live-data").textContent = `Data: ${DATA[p.data || s.data](p)}.`;
    $("#live-progress").firstElementChild.style.width = `${Math.round(100 * (p.fraction || 0))}%`;
    const at = p.step !== undefined && running ? ` · step ${p.step} of ${p.steps || s.steps}` +
      (p.curve && p.curve.loss.length ? ` · loss ${Lab.fmt(p.curve.loss[p.curve.loss.length - 1], 3)}` : "") : "";
    $("#live-message").textContent = (s.message || "") + at;
    if (p.filters) {
      drawFilters($("#live-filters"), p.filters, { cell: 10, first: true });
      $("#gallery-live-box").hidden = false;
      drawFilters($("#gallery-live"), p.filters);
    }
    const curve = p.curve || { step: [], loss: [] }, tests = p.tests || { step: [], accuracy: [], loss: [] };
    Lab.linePlot($("#live-loss"), [{ x: curve.step, y: curve.loss, colour: Lab.css(Lab.B) },
                                   { x: tests.step, y: tests.loss, colour: Lab.css(Lab.A), dash: [5, 3], dots: true }],
                 { xLabel: "step", empty: "press Start" });
    Lab.linePlot($("#live-accuracy"), [{ x: tests.step, y: tests.accuracy.map(a => 100 * a), colour: Lab.css(Lab.B), dots: true }],
                 { xLabel: "step", yMin: 100 * 0.06 / 1.12, yMax: 100 * 1.06 / 1.12, empty: "press Start" });  // 0-100 % once linePlot adds its 6 %
    const n = tests.accuracy.length;
    $("#live-acc").textContent = n ? `test accuracy ${(100 * tests.accuracy[n - 1]).toFixed(1)} % at step ${tests.step[n - 1]}` +
      (n > 1 ? ` (${(100 * tests.accuracy[0]).toFixed(1)} % at step ${tests.step[0]}, with fresh thetas)` : " (fresh thetas: a guess in ten)") : "";
    const ready = s.state === "ready" && s.model;
    $("#use-live").disabled = !ready;
    if (!ready && $("#use-live").classList.contains("on")) choose("loaded");
    $("#use-live").model = ready ? s.model : null;
  }

  async function poll() {
    let s;
    try { s = await Lab.api("/api/digits/live", undefined, { quiet: true }); } catch (e) {
      setTimeout(poll, 2 * POLL); return;
    }
    show(s);
    if (s.state === "training") setTimeout(poll, POLL); else polling = false;
  }
  function watch() { if (!polling) { polling = true; poll(); } }

  $("#live-start").addEventListener("click", async () => {
    const steps = Math.round(+$("#live-steps").value);
    choose("loaded");
    $("#live-start").disabled = true;
    try {
      show(await Lab.api("/api/digits/live/start", { steps }));
      watch();
    } catch (e) { $("#live-start").disabled = false; }
  });
  $("#live-stop").addEventListener("click", async () => {
    $("#live-stop").disabled = true;
    try { show(await Lab.api("/api/digits/live/stop", {})); } catch (e) { /* shown */ }
    watch();
  });

  // ------------------------------------------------------------------ which model guesses
  function choose(name) {
    if ($(`#use-${name}`).classList.contains("on")) return;
    for (const [id, on] of [["#use-loaded", name === "loaded"], ["#use-live", name === "live"]]) {
      $(id).classList.toggle("on", on);
      $(id).setAttribute("aria-pressed", String(on));
    }
    document.dispatchEvent(new CustomEvent("digits:use", { detail: { which: name, model: $("#use-live").model } }));
  }
  $("#use-loaded").addEventListener("click", () => choose("loaded"));
  $("#use-live").addEventListener("click", () => { if ($("#use-live").model) choose("live"); });

  scale();
  watch();                                   // a run of this client's from before the page was reloaded
})();
