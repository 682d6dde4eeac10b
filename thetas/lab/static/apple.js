// AppleWorld: a DQN agent among apples and poison. The server keeps the world and the agent; each poll advances
// `speed` steps (learning or not) and answers positions, rays, Q-values and the network's activations, drawn here.
// The learner's settings, saving and loading the agent: each replaces the session's agent (a fresh one, or a file's).
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  let state = null, running = false, learning = false, busy = false, timer = null, limits = null;
  const SETTINGS = ["gamma", "lr", "eps_start", "eps_end", "eps_steps", "hidden"];
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

  // The network as rldemo draws it: a block of cells per layer, one cell per unit (columns of ROWS cells), its
  // colour the unit's activation (Lab.diverging: orange negative, blue positive), each layer scaled to its largest
  // |value| (the eyes' readings are proximities in [0, 1]: scaled to 1). The outputs are Q(s, ·), the picked one
  // (the largest) outlined. Only activations come from the server, never weights.
  const CELL = 10, PITCH = 12, ROWS = 16, TOP = 34, GAP = 34;
  function netLayout(ctx, sizes, actions) {
    const eyes = (sizes[0] - 1) % 3 === 0 ? (sizes[0] - 1) / 3 : 0;      // AppleWorld: 3 readings an eye + touch
    ctx.font = "11px system-ui";
    const blocks = sizes.map((n, l) => {
      const last = l === sizes.length - 1;
      const title = l === 0 ? `eyes (${n})` : last ? `Q(s, a) (${n})` : `hidden ${l} (${n}, ReLU)`;
      let w;
      if (l === 0 && eyes) w = 3 * PITCH + 36;
      else if (last) w = 18 + Math.max(...actions.map(a => ctx.measureText(`${a} −0.000 ◀ picked`).width)) + 6;
      else w = Math.ceil(n / ROWS) * PITCH;
      return { n, title, w: Math.max(w, ctx.measureText(title).width), last, eyes: l === 0 ? eyes : 0 };
    });
    let x = 8;
    for (const b of blocks) { b.x = x; x += b.w + GAP; }
    return { blocks, width: Math.ceil(x - GAP + 8), height: TOP + ROWS * PITCH + 22 };
  }

  function drawNet(s) {
    const c = $("#net"), ctx = c.getContext("2d"), net = s.net, acts = net.activations;
    const key = net.sizes.join(",");
    if (c.dataset.sizes !== key) {                               // a new network: its layout
      const L = netLayout(ctx, net.sizes, s.actions);
      c.width = L.width; c.height = L.height; c.dataset.sizes = key;
      c._layout = L;
    }
    const L = c._layout, greedy = net.greedy;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.font = "11px system-ui"; ctx.textBaseline = "alphabetic"; ctx.textAlign = "left";
    const cell = (x, y, v, size = CELL) => {
      ctx.fillStyle = Lab.css(Lab.diverging(v)); ctx.fillRect(x, y, size, size);
      ctx.strokeStyle = "#c3c9d4"; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
    };
    L.blocks.forEach((b, l) => {
      const a = acts[l], peak = l === 0 ? 1 : Math.max(1e-6, ...a.map(Math.abs));
      ctx.fillStyle = "#1d2330"; ctx.fillText(b.title, b.x, 12);
      ctx.fillStyle = "#5d6575";
      if (l > 0) ctx.fillText(`max |a| ${Lab.fmt(peak, 2)}`, b.x, 25);
      if (l > 0) {                                               // an arrow from the block before
        const y = TOP + ROWS * PITCH / 2, x0 = L.blocks[l - 1].x + L.blocks[l - 1].w + 6, x1 = b.x - 6;
        ctx.strokeStyle = "#8a93a6"; ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y);
        ctx.lineTo(x1 - 5, y - 4); ctx.moveTo(x1, y); ctx.lineTo(x1 - 5, y + 4); ctx.stroke();
      }
      if (b.eyes) {                                              // a row per eye: wall, apple, poison; then touch
        ctx.textAlign = "center";
        ["W", "A", "P"].forEach((t, k) => ctx.fillText(t, b.x + k * PITCH + CELL / 2, 25));
        ctx.textAlign = "left";
        for (let e = 0; e < b.eyes; e++) for (let k = 0; k < 3; k++) cell(b.x + k * PITCH, TOP + e * PITCH, a[3 * e + k]);
        cell(b.x, TOP + b.eyes * PITCH + 4, a[3 * b.eyes]);
        ctx.fillStyle = "#5d6575"; ctx.fillText("touch", b.x + PITCH + 2, TOP + b.eyes * PITCH + 4 + CELL);
        ctx.fillText("right", b.x + 3 * PITCH + 2, TOP + CELL);
        ctx.fillText("left", b.x + 3 * PITCH + 2, TOP + (b.eyes - 1) * PITCH + CELL);
      } else if (b.last) {                                       // Q(s, a): a bigger cell, the action, the value
        a.forEach((q, k) => {
          const y = TOP + k * 26;
          cell(b.x, y, q / peak, 16);
          if (k === greedy) { ctx.strokeStyle = "#1d2330"; ctx.lineWidth = 3; ctx.strokeRect(b.x - 2.5, y - 2.5, 21, 21); }
          ctx.fillStyle = "#1d2330"; ctx.font = k === greedy ? "bold 11px system-ui" : "11px system-ui";
          ctx.fillText(`${s.actions[k]} ${Lab.fmt(q, 3)}${k === greedy ? " ◀ picked" : ""}`, b.x + 22, y + 12);
          ctx.font = "11px system-ui";
        });
      } else {                                                   // hidden units, down the columns as in rldemo
        a.forEach((v, i) => cell(b.x + Math.floor(i / ROWS) * PITCH, TOP + (i % ROWS) * PITCH, v / peak));
      }
    });
    const hidden = acts.slice(1, -1).map((a, l) => `hidden ${l + 1}: ${a.filter(v => v > 0).length} of ${a.length} active`);
    $("#net-note").textContent = `${hidden.join("; ")}; the network picks ${s.actions[greedy]} ` +
      `(Q = ${Lab.fmt(net.activations.at(-1)[greedy], 3)})`;
    c.setAttribute("aria-label", `the Q-network: ${net.sizes[0]} inputs, hidden layers of ` +
      `${net.sizes.slice(1, -1).join(" and ")} units, ${net.sizes.at(-1)} outputs; it picks ${s.actions[greedy]}`);
    c.dataset.greedy = s.actions[greedy];
    c.dataset.step = `${s.steps}`;
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
    drawWorld(s); drawQ(s); drawReward(s); drawNet(s);
    Object.assign(document.querySelector("main").dataset, { session: s.session, learning: `${s.learning}` });
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
    try { state = await Lab.api("/api/apple/sessions", {}); fillSettings(state.settings); draw(); run(); }
    catch (e) { /* shown */ }
  }

  // Something that replaces the session's agent: no step request in flight meanwhile (its answer would be the
  // old agent's); the animation goes on after.
  async function exclusive(fn) {
    while (busy) await new Promise(r => setTimeout(r, 20));
    busy = true;
    try { return await fn(); } finally { busy = false; if (running) run(); }
  }

  function fillSettings(st) {
    for (const k of SETTINGS) {
      const input = $(`#set-${k}`);
      input.value = k === "hidden" ? st.hidden.join(",") : `${st[k]}`;
      input.removeAttribute("aria-invalid");
    }
  }

  function showFieldError(box, message) {
    box.textContent = message;
    const m = /'(\w+)'/.exec(message), input = m && SETTINGS.includes(m[1]) ? $(`#set-${m[1]}`) : null;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  // A new agent came (fresh, trained or from a file): it does not learn until asked, and the form shows its settings.
  function newAgent(answer, note) {
    state = answer; learning = false;
    fillSettings(state.settings);
    $("#settings-note").textContent = note;
    draw();
  }

  async function applySettings(e) {
    e.preventDefault();
    if (!state) return;
    const body = {};
    for (const k of SETTINGS) {
      const v = $(`#set-${k}`).value.trim();
      body[k] = k === "hidden" ? v : (v === "" ? null : Number(v));
      $(`#set-${k}`).removeAttribute("aria-invalid");
    }
    $("#settings-error").textContent = ""; $("#settings-note").textContent = "";
    await exclusive(async () => {
      try {
        const s = await Lab.api(`/api/apple/${state.session}/settings`, body);
        newAgent(s, `${s.message[0].toUpperCase()}${s.message.slice(1)}. Press Start learning.`);
      } catch (err) { showFieldError($("#settings-error"), err.message); }
    });
  }

  async function save() {
    if (!state) return;
    $("#save").disabled = true;
    try {
      const f = await exclusive(() => Lab.api(`/api/apple/${state.session}/agent`));
      const bin = atob(f.data), bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      const a = Lab.el("a", { href: url, download: f.name });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
      $("#settings-note").textContent = `Saved ${f.name} (${f.bytes.toLocaleString()} bytes; its settings inside).`;
    } catch (e) { /* shown */ } finally { $("#save").disabled = false; }
  }

  async function upload(e) {
    const input = e.target, file = input.files[0], box = $("#file-error");
    box.textContent = "";
    if (!file || !state) return;
    const most = (limits && limits.upload_bytes) || 1048576;
    try {
      if (file.size > most) {
        const message = `${file.name} is ${file.size.toLocaleString()} bytes; at most ${most.toLocaleString()} are accepted here`;
        Lab.showError(message); box.textContent = message;
        return;
      }
      const data = Lab.b64bytes(new Uint8Array(await file.arrayBuffer()));
      await exclusive(async () => {
        try {
          const s = await Lab.api(`/api/apple/${state.session}/agent`, { name: file.name, data });
          newAgent(s, `${s.message[0].toUpperCase()}${s.message.slice(1)}. It plays (ε = 0.05); Start learning goes on from it.`);
        } catch (err) { box.textContent = err.message; }
      });
    } finally { input.value = ""; }
  }

  async function readLimits() {
    try {
      limits = await Lab.api("/api/apple/status", undefined, { quiet: true });
      for (const [k, range] of Object.entries(limits.limits)) {
        const input = $(`#set-${k}`);
        if (input && Array.isArray(range)) { input.min = range[0]; input.max = range[1]; }
      }
      $("#set-hidden").title = `1 to ${limits.limits.layers} widths of 1 to ${limits.limits.width}, e.g. 64,64`;
    } catch (e) { /* the form still works: the server checks every value */ }
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
        await exclusive(async () => newAgent(await Lab.api(`/api/apple/${state.session}/load`, {}),
          "The trained agent: its settings are in the form."));
        run();
      }
    } catch (e) { /* shown */ } finally { $("#trained").disabled = false; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#speed").addEventListener("input", () => { $("#speed-value").textContent = $("#speed").value; });
    $("#learn").addEventListener("click", () => { learning = !learning; run(); draw(); });
    $("#trained").addEventListener("click", loadTrained);
    $("#reset").addEventListener("click", create);
    $("#settings").addEventListener("submit", applySettings);
    $("#save").addEventListener("click", save);
    $("#load-file").addEventListener("change", upload);
    readLimits();
    create();
  });
})();
