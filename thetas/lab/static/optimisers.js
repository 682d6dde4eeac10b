// Optimisers and losses: a loss surface with four optimisers' paths (computed by th.optim on the server), and
// the M&Ms: the best guess under squared and absolute error, by exhaustive search and by gradient descent.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const OPTS = [
    { name: "gd", label: "batch GD", colour: "#1d2330", lr: 1.0 },
    { name: "sgd", label: "SGD", colour: "#e8590c", lr: 0.5, extra: "batch_size", extraLabel: "batch", value: 4 },
    { name: "momentum", label: "momentum", colour: "#237a35", lr: 0.3, extra: "momentum", extraLabel: "μ", value: 0.9 },
    { name: "adam", label: "Adam", colour: "#ae3ec9", lr: 0.1 },
  ];
  let surf = null, traj = null, frame = 0, anim = null, start = [-2, 3];

  // ------------------------------------------------------------------ the surface
  const canvas = $("#surface");
  const W = canvas.width, H = canvas.height;
  const toPx = (w, b) => [(w - surf.w_range[0]) / (surf.w_range[1] - surf.w_range[0]) * W,
                          (surf.b_range[1] - b) / (surf.b_range[1] - surf.b_range[0]) * H];
  const fromPx = (x, y) => [surf.w_range[0] + x / W * (surf.w_range[1] - surf.w_range[0]),
                            surf.b_range[1] - y / H * (surf.b_range[1] - surf.b_range[0])];
  let background = null;

  function paintSurface() {
    const n = surf.w.length, L = surf.loss;                // L[i][j]: b[i], w[j]
    const flat = [], logs = L.map(r => r.map(v => Math.log(v)));
    let lo = Infinity, hi = -Infinity;
    for (const r of logs) for (const v of r) { lo = Math.min(lo, v); hi = Math.max(hi, v); flat.push(v); }
    const img = new Float32Array(n * n);                   // rows top (b high) to bottom
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) img[(n - 1 - i) * n + j] = (logs[i][j] - lo) / (hi - lo);
    const shade = v => Lab.mix(Lab.sequential(1 - v), [255, 255, 255], 0.25);
    Lab.heatmap(canvas, img, n, n, shade, { smooth: true });
    const scale = $("#surface-scale");                     // the colour scale: low loss to high, log-spaced
    Lab.heatmap(scale, new Float32Array(64).map((_, k) => k / 63), 64, 1, shade);
    $("#surface-lo").textContent = Lab.fmt(Math.exp(lo), 3); $("#surface-hi").textContent = Lab.fmt(Math.exp(hi), 3);
    const g = canvas.getContext("2d");
    // contour lines (marching squares) at evenly spaced log-losses
    g.strokeStyle = "rgba(255,255,255,.55)"; g.lineWidth = 1;
    const cx = j => j / (n - 1) * W, cy = i => (n - 1 - i) / (n - 1) * H;
    for (let k = 1; k < 14; k++) {
      const level = lo + (hi - lo) * Math.pow(k / 14, 1.6);
      g.beginPath();
      for (let i = 0; i < n - 1; i++) for (let j = 0; j < n - 1; j++) {
        const c = [logs[i][j], logs[i][j + 1], logs[i + 1][j + 1], logs[i + 1][j]];
        const pts = [];
        const corners = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]];
        for (let e = 0; e < 4; e++) {
          const a = c[e], b = c[(e + 1) % 4];
          if ((a < level) !== (b < level)) {
            const t = (level - a) / (b - a), p = corners[e], q = corners[(e + 1) % 4];
            pts.push([cx(p[1] + t * (q[1] - p[1])), cy(p[0] + t * (q[0] - p[0]))]);
          }
        }
        for (let s = 0; s + 1 < pts.length; s += 2) { g.moveTo(pts[s][0], pts[s][1]); g.lineTo(pts[s + 1][0], pts[s + 1][1]); }
      }
      g.stroke();
    }
    // axes
    g.fillStyle = "#1d2330"; g.font = "11px system-ui";
    for (let w = Math.ceil(surf.w_range[0]); w <= surf.w_range[1]; w++) { const [x] = toPx(w, 0); g.fillText(`${w}`, x + 2, H - 4); }
    for (let b = Math.ceil(surf.b_range[0]); b <= surf.b_range[1]; b++) { const [, y] = toPx(0, b); g.fillText(`${b}`, 3, y - 2); }
    const [mx, my] = toPx(surf.minimum[0], surf.minimum[1]);
    star(g, mx, my);
    background = g.getImageData(0, 0, W, H);
  }
  function star(g, x, y) {
    g.fillStyle = "#ffd43b"; g.strokeStyle = "#1d2330"; g.lineWidth = 1;
    g.beginPath();
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? 4 : 10, a = -Math.PI / 2 + k * Math.PI / 5;
      g.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
    }
    g.closePath(); g.fill(); g.stroke();
  }

  function drawPaths() {
    const g = canvas.getContext("2d");
    g.putImageData(background, 0, 0);
    const [sx, sy] = toPx(start[0], start[1]);
    g.fillStyle = "#fff"; g.strokeStyle = "#1d2330"; g.beginPath(); g.arc(sx, sy, 6, 0, 2 * Math.PI); g.fill(); g.stroke();
    if (!traj) return;
    for (const o of OPTS) {
      const t = traj.trajectories[o.name];
      if (!t) continue;
      const upto = Math.min(frame, t.path.length - 1);
      g.strokeStyle = o.colour; g.lineWidth = 2; g.beginPath();
      t.path.slice(0, upto + 1).forEach((p, i) => { const [x, y] = toPx(p[0], p[1]); if (i) g.lineTo(x, y); else g.moveTo(x, y); });
      g.stroke();
      const [x, y] = toPx(t.path[upto][0], t.path[upto][1]);
      g.fillStyle = o.colour; g.beginPath(); g.arc(x, y, 5, 0, 2 * Math.PI); g.fill();
      const diverged = t.path.length - 1 < traj.steps && frame >= t.path.length - 1;
      $(`#now-${o.name}`).textContent = Lab.fmt(t.loss[upto], 4) + (diverged ? " (diverged)" : "");
    }
    Lab.linePlot($("#loss-curve"), OPTS.filter(o => traj.trajectories[o.name]).map(o => {
      const t = traj.trajectories[o.name], upto = Math.min(frame, t.loss.length - 1);
      return { x: t.loss.slice(0, upto + 1).map((_, i) => i), y: t.loss.slice(0, upto + 1), colour: o.colour };
    }), { xLabel: "step", xMin: 0, xMax: traj.steps, logY: true });
    drawData();
  }

  function drawData() {
    const c = $("#data-plot"), g = c.getContext("2d");
    const L = 40, R = 10, T = 8, B = 20, w = c.width, h = c.height;
    g.clearRect(0, 0, w, h); g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
    const xs = surf.x, x0 = Math.min(...xs) - 0.3, x1 = Math.max(...xs) + 0.3;
    const px = x => L + (x - x0) / (x1 - x0) * (w - L - R), py = y => T + (1 - y) * (h - T - B);
    g.strokeStyle = "#d9dde5"; g.beginPath(); g.moveTo(L, py(0)); g.lineTo(w - R, py(0)); g.moveTo(L, py(1)); g.lineTo(w - R, py(1)); g.stroke();
    g.fillStyle = "#5d6575"; g.font = "11px system-ui"; g.fillText("y = 1", 4, py(1) + 4); g.fillText("y = 0", 4, py(0) + 4);
    xs.forEach((x, i) => { g.fillStyle = Lab.css(surf.y[i] ? Lab.B : Lab.A); g.beginPath(); g.arc(px(x), py(surf.y[i]), 3.5, 0, 2 * Math.PI); g.fill(); });
    const curve = (wb, colour, dash) => {
      g.strokeStyle = colour; g.lineWidth = 2; g.setLineDash(dash || []); g.beginPath();
      for (let k = 0; k <= 100; k++) { const x = x0 + (x1 - x0) * k / 100, y = 1 / (1 + Math.exp(-(wb[0] * x + wb[1]))); k ? g.lineTo(px(x), py(y)) : g.moveTo(px(x), py(y)); }
      g.stroke(); g.setLineDash([]);
    };
    curve(surf.minimum, "#fab005", [5, 4]);
    if (traj) for (const o of OPTS) {
      const t = traj.trajectories[o.name];
      if (t) curve(t.path[Math.min(frame, t.path.length - 1)], o.colour);
    }
  }

  async function run() {
    const optimizers = {};
    for (const o of OPTS) {
      optimizers[o.name] = { lr: +$(`#lr-${o.name}`).value };
      if (o.extra) optimizers[o.name][o.extra] = +$(`#x-${o.name}`).value;
    }
    try {
      traj = await Lab.api("/api/optim/trajectories", { start, steps: Math.round(+$("#steps").value), optimizers });
    } catch (e) { return; }
    $("#start-note").textContent = `start w = ${Lab.fmt(start[0], 2)}, b = ${Lab.fmt(start[1], 2)}`;
    cancelAnimationFrame(anim);
    frame = 0;
    const per = Math.max(1, Math.round(traj.steps / 120));
    const tick = () => { drawPaths(); if (frame < traj.steps) { frame += per; anim = requestAnimationFrame(tick); } };
    tick();
  }
  canvas.addEventListener("click", e => {
    if (!surf) return;
    const r = canvas.getBoundingClientRect();
    start = fromPx((e.clientX - r.left) * W / r.width, (e.clientY - r.top) * H / r.height).map(v => Math.round(v * 100) / 100);
    run();
  });
  $("#run").addEventListener("click", run);
  canvas.addEventListener("keydown", e => {            // the keyboard: arrows move the start (and run from it)
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!surf || !(e.key in moves || e.key === "Enter")) return;
    e.preventDefault();
    if (e.key in moves) {
      const [dw, db] = moves[e.key], step = e.shiftKey ? 0.5 : 0.1, s0 = start || [-2, 3];
      start = [Math.max(surf.w_range[0], Math.min(surf.w_range[1], s0[0] + dw * step)),
               Math.max(surf.b_range[0], Math.min(surf.b_range[1], s0[1] + db * step))].map(v => Math.round(v * 100) / 100);
    }
    run();
  });

  function buildTable() {
    const t = $("#opts");
    for (const o of OPTS) {
      const lr = Lab.el("input", { type: "number", id: `lr-${o.name}`, "aria-label": `learning rate η of ${o.label}`, value: o.lr, min: "0.00001", max: "20", step: "0.05", style: "width: 80px" });
      const extra = o.extra ? Lab.el("label", {}, o.extraLabel + " ", Lab.el("input", { type: "number", id: `x-${o.name}`, "aria-label": `${o.extraLabel} of ${o.label}`, value: o.value,
        min: o.extra === "momentum" ? "0" : "1", max: o.extra === "momentum" ? "0.999" : "40", step: o.extra === "momentum" ? "0.05" : "1", style: "width: 64px" })) : "";
      t.append(Lab.el("tr", {}, Lab.el("td", {}, Lab.el("span", { class: "legend" }, (() => { const s = Lab.el("span", { class: "swatch" }); s.style.background = o.colour; return s; })(), o.label)),
        Lab.el("td", {}, lr), Lab.el("td", {}, extra), Lab.el("td", { id: `now-${o.name}`, text: "–" })));
    }
  }

  // ------------------------------------------------------------------ M&Ms
  function parseCounts() {
    const parts = $("#counts").value.split(/[\s,;]+/).filter(Boolean);
    const counts = parts.map(Number);
    const bad = parts.find((p, i) => !Number.isInteger(counts[i]) || counts[i] < 0);
    if (bad !== undefined) throw new Error(`"${bad}" is not a whole number of M&Ms`);
    if (!counts.length) throw new Error("enter at least one bag count");
    return counts;
  }
  async function mms() {
    let counts;
    try { counts = parseCounts(); } catch (e) { Lab.showError(e.message); return; }
    let r;
    try {
      r = await Lab.api("/api/mms", { counts, start: +$("#start").value, steps: Math.round(+$("#mm-steps").value),
                                      lr_squared: +$("#lr-sq").value, lr_absolute: +$("#lr-abs").value,
                                      schedule: $("#mm-schedule").value });
    } catch (e) { return; }
    // the same formula as the server's: the mean cost over the bags
    const cost = (kind, g) => counts.reduce((s, n) => s + (kind === "squared" ? (n - g) ** 2 : Math.abs(n - g)), 0) / counts.length;
    const notes = [];
    if (r.squared.diverged) notes.push(`Squared error diverged: with η = ${r.squared.lr} each step multiplies the distance to the ` +
      `mean by |1 − 2η| = ${Lab.fmt(Math.abs(1 - 2 * r.squared.lr), 2)} > 1, so the guess runs off (the path stops where it left the chart).`);
    if (r.absolute.diverged) notes.push("Absolute error diverged.");
    if (!r.absolute.diverged && r.absolute.schedule === "constant") notes.push(`Absolute error: the slope is ±1 at any distance, ` +
      `so with a constant η = ${r.absolute.lr} the guess ends up hopping around the median; a shrinking η settles it.`);
    $("#mm-note").textContent = notes.join(" ");
    for (const [kind, id, centre, name] of [["squared", "#mm-sq", r.mean, "mean"], ["absolute", "#mm-abs", r.median, "median"]]) {
      const d = r[kind];
      const lo = Math.min(...d.guesses), hi = Math.max(...d.guesses);
      const path = d.gd_path.filter(g => g >= lo && g <= hi);
      Lab.linePlot($(id), [
        { x: d.guesses, y: d.cost, colour: "#3b5bdb" },
        { x: path, y: path.map(g => cost(kind, g)), colour: "#e8590c", width: 0.01, dots: true },
      ], { xLabel: "guess", marks: [
        { x: centre, colour: "#237a35", label: `${name} ${Lab.fmt(centre, 3)}` },
        { x: d.exhaustive, colour: "#1d2330", label: `exhaustive search ${Lab.fmt(d.exhaustive, 2)}`, row: 1, dash: [2, 2] },
        { x: d.gd, colour: "#e8590c", label: d.diverged ? "gradient descent: diverged" : `gradient descent ${Lab.fmt(d.gd, 3)}`, row: 2, dash: [6, 2] },
      ] });
    }
    const t = $("#mm-table");
    t.replaceChildren(Lab.el("tr", {}, Lab.el("th", { text: "method" }), Lab.el("th", { text: "squared" }), Lab.el("th", { text: "absolute" })));
    const row = (name, a, b) => t.append(Lab.el("tr", {}, Lab.el("td", { text: name }), Lab.el("td", { text: a }), Lab.el("td", { text: b })));
    row("exhaustive search", Lab.fmt(r.squared.exhaustive, 2), r.absolute.flat[0] === r.absolute.flat[1] ? Lab.fmt(r.absolute.exhaustive, 2) :
        `${Lab.fmt(r.absolute.flat[0], 2)}…${Lab.fmt(r.absolute.flat[1], 2)} (flat)`);
    row("gradient descent", r.squared.diverged ? "diverged" : Lab.fmt(r.squared.gd, 3), r.absolute.diverged ? "diverged" : Lab.fmt(r.absolute.gd, 3));
    row("mean / median", `mean ${Lab.fmt(r.mean, 3)}`, `median ${Lab.fmt(r.median, 3)}`);
    row("least mean cost", Lab.fmt(r.squared.exhaustive_cost, 3), Lab.fmt(r.absolute.exhaustive_cost, 3));
    // the bags, as a histogram
    const c = $("#mm-hist"), g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    const lo = Math.min(...counts), hi = Math.max(...counts), bins = {};
    counts.forEach(n => { bins[n] = (bins[n] || 0) + 1; });
    const top = Math.max(...Object.values(bins)), x = n => 46 + (n - lo + 5) / (hi - lo + 10) * (c.width - 56);
    for (const [n, k] of Object.entries(bins)) {
      g.fillStyle = "#3b5bdb"; g.fillRect(x(+n) - 3, 70 - 60 * k / top, 6, 60 * k / top);
    }
    g.fillStyle = "#5d6575"; g.font = "11px system-ui";
    g.fillText(`${lo}`, x(lo) - 6, 84); g.fillText(`${hi}`, x(hi) - 6, 84);
    g.fillText(`${counts.length} bags`, 4, 14);
  }
  $("#mm-run").addEventListener("click", mms);
  $("#mm-schedule").addEventListener("change", mms);
  $("#mm-random").addEventListener("click", () => {
    const bags = Array.from({ length: 15 }, () => {
      let s = 0; for (let k = 0; k < 12; k++) s += Math.random();
      return Math.max(0, Math.round(55 + 2.5 * (s - 6) + (Math.random() < 0.1 ? 12 : 0)));
    });
    $("#counts").value = bags.join(", ");
    mms();
  });

  document.addEventListener("DOMContentLoaded", async () => {
    buildTable();
    surf = await Lab.api("/api/optim/surface", { resolution: 120 });
    paintSurface();
    await run();
    const defaults = await Lab.api("/api/mms", {});
    $("#counts").value = defaults.counts.join(", ");
    $("#start").value = Math.min(...defaults.counts) - 10;
    mms();
  });
})();
