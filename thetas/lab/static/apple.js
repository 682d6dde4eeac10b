// AppleWorld: a DQN agent among apples and poison. The server keeps the world and the agent; each poll advances
// `speed` steps (learning or not) and answers positions, rays and Q-values, drawn here.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  let state = null, running = false, learning = false, busy = false, timer = null;
  // wall, apple, poison: a dark green and an orange, 3.5:1 apart in lightness under simulated deuteranopia (the
  // old green and red: 1.3:1), and shapes that need no colour at all (apples round, poison a crossed diamond)
  const KIND = ["#777", "#00664d", "#e69f00"];

  function drawWorld(s) {
    const c = $("#world"), ctx = c.getContext("2d"), k = c.width / s.size;
    const X = x => x * k, Y = y => c.height - y * k;
    ctx.fillStyle = "#f5f5f0";
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.lineWidth = 1;
    s.rays.forEach((e, i) => {
      const kind = s.ray_kinds[i];
      ctx.strokeStyle = kind < 0 ? "#bbb" : KIND[kind];
      ctx.beginPath(); ctx.moveTo(X(s.agent[0]), Y(s.agent[1])); ctx.lineTo(X(e[0]), Y(e[1])); ctx.stroke();
    });
    const rad = s.item_radius * k;
    ctx.fillStyle = KIND[1];
    for (const p of s.apples) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), rad, 0, 2 * Math.PI); ctx.fill(); }
    for (const p of s.poison) {
      const x = X(p[0]), y = Y(p[1]);
      ctx.fillStyle = KIND[2];
      ctx.beginPath(); ctx.moveTo(x, y - rad * 1.2); ctx.lineTo(x + rad * 1.2, y); ctx.lineTo(x, y + rad * 1.2);
      ctx.lineTo(x - rad * 1.2, y); ctx.closePath(); ctx.fill();
      ctx.strokeStyle = "#6b4a00"; ctx.lineWidth = 1; ctx.stroke();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.beginPath();
      ctx.moveTo(x - rad / 2, y - rad / 2); ctx.lineTo(x + rad / 2, y + rad / 2);
      ctx.moveTo(x + rad / 2, y - rad / 2); ctx.lineTo(x - rad / 2, y + rad / 2); ctx.stroke();
    }
    ctx.strokeStyle = "#3c3c3c"; ctx.lineWidth = 3;
    for (const w of s.walls) { ctx.beginPath(); ctx.moveTo(X(w[0][0]), Y(w[0][1])); ctx.lineTo(X(w[1][0]), Y(w[1][1])); ctx.stroke(); }
    ctx.fillStyle = "#325ac8";
    ctx.beginPath(); ctx.arc(X(s.agent[0]), Y(s.agent[1]), s.agent_radius * k, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = "#325ac8"; ctx.lineWidth = 2;
    const r = 1.5 * s.agent_radius;
    ctx.beginPath(); ctx.moveTo(X(s.agent[0]), Y(s.agent[1]));
    ctx.lineTo(X(s.agent[0] + r * Math.cos(s.heading)), Y(s.agent[1] + r * Math.sin(s.heading))); ctx.stroke();
  }

  function drawQ(s) {
    const c = $("#qbars"), ctx = c.getContext("2d"), n = s.q.length, h = c.height - 40;
    ctx.clearRect(0, 0, c.width, c.height);
    const span = Math.max(1e-6, ...s.q.map(Math.abs)), zero = 10 + h / 2, bw = c.width / n;
    const best = s.q.indexOf(Math.max(...s.q));
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(0, zero); ctx.lineTo(c.width, zero); ctx.stroke();
    ctx.font = "13px sans-serif"; ctx.textAlign = "center";
    s.q.forEach((q, a) => {
      const len = (q / span) * (h / 2);
      ctx.fillStyle = a === best ? "#2b8a3e" : "#8aa4d6";
      ctx.fillRect(a * bw + 20, q >= 0 ? zero - len : zero, bw - 40, Math.abs(len) || 1);
      ctx.fillStyle = "#222";
      ctx.fillText(`${s.actions[a]}${a === s.action ? " ◀ taken" : ""}`, a * bw + bw / 2, c.height - 18);
      ctx.fillText(Lab.fmt(q, 3), a * bw + bw / 2, c.height - 3);
    });
    c.dataset.bars = `${n}`;
  }

  function drawReward(s) {
    const c = $("#reward"), ctx = c.getContext("2d"), H = s.history;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.strokeStyle = "#999"; ctx.strokeRect(30, 5, c.width - 35, c.height - 25);
    ctx.fillStyle = "#444"; ctx.font = "11px sans-serif";
    if (H.length < 2) { ctx.fillText("the graph starts after 100 steps (a point every 50)", 40, 25); return; }
    const ys = H.map(p => p[1]), lo = Math.min(0, ...ys), hi = Math.max(0.01, ...ys);
    const x0 = H[0][0], x1 = H[H.length - 1][0];
    const px = x => 30 + (c.width - 35) * (x - x0) / Math.max(1, x1 - x0);
    const py = y => 5 + (c.height - 25) * (1 - (y - lo) / (hi - lo));
    ctx.fillText(Lab.fmt(hi, 2), 0, 14); ctx.fillText(Lab.fmt(lo, 2), 0, c.height - 20);
    ctx.fillText(`step ${x0}`, 32, c.height - 5); ctx.textAlign = "right"; ctx.fillText(`step ${x1}`, c.width - 4, c.height - 5);
    ctx.textAlign = "left";
    ctx.strokeStyle = "#ccc"; ctx.beginPath(); ctx.moveTo(30, py(0)); ctx.lineTo(c.width - 5, py(0)); ctx.stroke();
    ctx.strokeStyle = "#2b8a3e"; ctx.lineWidth = 2; ctx.beginPath();
    H.forEach((p, i) => (i ? ctx.lineTo(px(p[0]), py(p[1])) : ctx.moveTo(px(p[0]), py(p[1]))));
    ctx.stroke(); ctx.lineWidth = 1;
  }

  function draw() {
    const s = state;
    if (!s) return;
    $("#steps").textContent = `${s.steps}`;
    $("#epsilon").textContent = Lab.fmt(s.epsilon, 2);
    $("#apples").textContent = `${s.eaten.apples}`;
    $("#poison").textContent = `${s.eaten.poison}`;
    $("#learn").textContent = learning ? "Stop learning" : (running ? "Start learning" : "Start learning");
    $("#reward-note").textContent = `now ${Lab.fmt(s.reward_avg, 3)} per step; ` +
      (s.trained ? "a trained agent, playing (ε = 0.05: a random step now and then keeps it from sliding along a wall for ever)" : learning ? "learning" : "not learning (ε = 0.05)");
    drawWorld(s); drawQ(s); drawReward(s);
  }

  async function tick() {
    timer = null;
    if (!running || !state || busy) return;
    busy = true;
    try {
      state = await Lab.api(`/api/apple/${state.session}/step`, { speed: +$("#speed").value, learning });
      draw();
    } catch (e) { running = false; } finally { busy = false; }
    if (running) timer = setTimeout(tick, 30);
  }

  function run() { running = true; if (!timer) timer = setTimeout(tick, 0); }

  async function create() {
    running = false; learning = false;
    try { state = await Lab.api("/api/apple/sessions", {}); draw(); run(); } catch (e) { /* shown */ }
  }

  async function loadTrained() {
    $("#trained").disabled = true;
    const box = $("#aw-status");
    try {
      let st = await Lab.api("/api/apple/trained", {});
      while (st.state === "training") {
        box.hidden = false;
        $("#aw-message").textContent = `${st.message} … ${Math.round(100 * (st.progress.fraction || 0))}%`;
        await new Promise(r => setTimeout(r, 500));
        st = await Lab.api("/api/apple/status", undefined, { quiet: true });
      }
      box.hidden = false;
      $("#aw-message").textContent = st.message;
      if (st.state === "ready" && state) {
        while (busy) await new Promise(r => setTimeout(r, 20));
        learning = false;
        state = await Lab.api(`/api/apple/${state.session}/load`, {});
        draw(); run();
      }
    } catch (e) { /* shown */ } finally { $("#trained").disabled = false; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#speed").addEventListener("input", () => { $("#speed-value").textContent = $("#speed").value; });
    $("#learn").addEventListener("click", () => { learning = !learning; run(); draw(); });
    $("#trained").addEventListener("click", loadTrained);
    $("#reset").addEventListener("click", create);
    create();
  });
})();
