// Inside a neuron: a unit's optimal stimulus, climbed a few steps per request and drawn as it goes; its top 9 test
// images; and integrated gradients of the first guess for a drawing.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  const CHUNK = 10;                        // ascent steps per request: the picture is redrawn after each
  let info = null;                         // /api/inside/layers
  let run = 0;                             // the current ascent; a new one (or Stop) ends the old
  const ink = v => Lab.gray(1 - v);        // ink dark on white paper, as the drawing

  // ------------------------------------------------------------------ the model and its layers
  async function load() {
    try {
      info = await Lab.api("/api/inside/layers", undefined, { quiet: true });
    } catch (e) {
      $("#model-status").hidden = false;
      $("#model-message").textContent = e.status === 503 ? `${e.message} (this page waits for it)` : e.message;
      setTimeout(load, 2000);
      return;
    }
    $("#model-status").hidden = true;
    const select = $("#layer");
    select.replaceChildren(...info.layers.map(l => Lab.el("option", { value: l.index, text: `${l.title}` })));
    const output = info.layers.find(l => l.kind === "softmax") || info.layers[info.layers.length - 1];
    select.value = output.index;
    layerChanged();
  }

  function layer() { return info.layers.find(l => l.index === +$("#layer").value); }
  function layerChanged() {
    const l = layer();
    $("#unit").max = l.units - 1;
    if (+$("#unit").value > l.units - 1) $("#unit").value = 0;
    $("#unit-range").textContent = l.kind === "softmax" ? `units 0–${l.units - 1}: the logit of each class` :
      (l.kind === "conv" || l.kind === "pool") ? `units 0–${l.units - 1}: a feature map (its mean over positions)` :
      `units 0–${l.units - 1}`;
  }
  $("#layer").addEventListener("change", () => { layerChanged(); climb(); });
  $("#prev").addEventListener("click", () => { step(-1); });
  $("#next").addEventListener("click", () => { step(1); });
  function step(d) {
    const n = layer().units;
    $("#unit").value = (((+$("#unit").value || 0) + d) % n + n) % n;
    climb();
  }
  $("#unit").addEventListener("keydown", e => { if (e.key === "Enter") climb(); });
  $("#climb").addEventListener("click", () => climb());
  $("#stop").addEventListener("click", () => { run++; $("#stop").disabled = true; });

  // ------------------------------------------------------------------ the ascent, drawn as it goes
  async function climb() {
    if (!info) return;
    const l = layer(), unit = Math.round(+$("#unit").value);
    if (!(unit >= 0 && unit < l.units)) {
      Lab.showError(`unit must be between 0 and ${l.units - 1}`);
      return;
    }
    const mine = ++run, total = Math.max(10, Math.min(500, Math.round(+$("#steps").value) || 100));
    $("#stop").disabled = false;
    $("#stimulus-note").textContent = `climbing unit ${unit} of ${l.title}…`;
    top(l.index, unit);
    const acts = [], steps = [];
    let x = null, t = 0;
    try {
      while (t < total && mine === run) {
        const r = await Lab.api("/api/inside/stimulus", { layer: l.index, unit, steps: Math.min(CHUNK, total - t),
                                                          start: x, t });
        if (mine !== run) return;
        if (t === 0) { acts.push(r.start_activation); steps.push(0); }
        r.activations.forEach((a, i) => { acts.push(a); steps.push(t + i + 1); });
        x = r.x; t = r.t;
        Lab.heatmap($("#stimulus"), Lab.decode(r.x), info.side, info.side, ink);
        $("#stimulus-note").textContent = `step ${t} of ${total}: a(x) = ${Lab.fmt(acts[acts.length - 1])}`;
        $("#stimulus-guess").textContent = `the network reads it as ${r.guess.label} ` +
          `(${(100 * r.guess.probability).toFixed(1)} %)`;
        Lab.linePlot($("#ascent"), [{ x: steps, y: acts, colour: Lab.css(Lab.B), label: "a(x)" }],
                     { xLabel: "step", yMin: undefined });
      }
    } catch (e) { /* the message is shown */ } finally {
      if (mine === run) $("#stop").disabled = true;
    }
  }

  async function top(index, unit) {
    let r;
    $("#top-note").textContent = "searching the test images…";
    try {
      r = await Lab.api("/api/inside/top", { layer: index, unit });
    } catch (e) { $("#top-note").textContent = ""; return; }
    const figures = r.images.map(im => {
      const c = Lab.el("canvas", { width: info.side, height: info.side, class: "pixel",
                                   "aria-label": `test image ${im.index}, a ${im.label}` });
      Lab.heatmap(c, Lab.decode(im.x), info.side, info.side, ink);
      return Lab.el("figure", { role: "listitem", title: `activation ${Lab.fmt(im.activation)}` }, c,
                    Lab.el("figcaption", { text: `${im.label} · ${Lab.fmt(im.activation, 2)}` }));
    });
    $("#top").replaceChildren(...figures);
    $("#top-note").textContent = `of ${r.searched.toLocaleString()} test images (label · activation)`;
  }

  // ------------------------------------------------------------------ why did it say that?
  const pad = $("#pad"), ctx = pad.getContext("2d");
  let down = false, last = null, drawn = false;
  function clearPad() { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height); drawn = false; }
  function pos(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function stroke(a, b) {
    ctx.strokeStyle = "#000"; ctx.lineWidth = +$("#size").value; ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    drawn = true;
  }
  pad.addEventListener("pointerdown", e => {
    e.preventDefault(); down = true; last = pos(e); pad.setPointerCapture(e.pointerId);
    stroke(last, [last[0] + 0.01, last[1]]);
  });
  pad.addEventListener("pointermove", e => { if (down) { const p = pos(e); stroke(last, p); last = p; } });
  const end = () => { if (down) { down = false; explain(); } };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("#clear").addEventListener("click", () => {
    clearPad();
    $("#guess").textContent = "?"; $("#guess-p").textContent = "";
    $("#why-note").textContent = "Draw a digit, then ask why.";
    for (const id of ["#seen", "#heat"]) $(id).getContext("2d").clearRect(0, 0, 196, 196);
  });
  $("#why").addEventListener("click", () => explain());
  Lab.keyPen(pad, { draw: stroke, lifted: () => explain(), cleared: () => $("#clear").click(),
                    size: () => +$("#size").value });

  let asking = false, again = false;
  async function explain() {
    if (!info) return;
    if (!drawn) { Lab.showError("draw a digit first"); return; }
    if (asking) { again = true; return; }
    const SEND = 140, small = document.createElement("canvas");
    small.width = small.height = SEND;
    const s = small.getContext("2d");
    s.fillStyle = "#fff"; s.fillRect(0, 0, SEND, SEND); s.drawImage(pad, 0, 0, SEND, SEND);
    const rgba = s.getImageData(0, 0, SEND, SEND).data, bytes = new Uint8Array(SEND * SEND);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 255 - rgba[4 * i];
    asking = true;
    $("#why-note").setAttribute("aria-busy", "true");
    try {
      const r = await Lab.api("/api/inside/explain",
                              { drawing: { width: SEND, height: SEND, pixels: Lab.b64bytes(bytes) } });
      $("#guess").textContent = r.guess.label;
      $("#guess-p").textContent = `${(100 * r.guess.probability).toFixed(1)} %`;
      Lab.heatmap($("#seen"), Lab.decode(r.input), info.side, info.side, ink);
      const a = Lab.decode(r.attributions);
      let m = 0;
      for (const v of a) m = Math.max(m, Math.abs(v));
      Lab.heatmap($("#heat"), a, info.side, info.side, v => Lab.diverging(m > 0 ? v / m : 0));
      $("#why-note").textContent = `Integrated gradients from a blank page (${r.steps} gradients): the pixels' ` +
        `shares add up to the score's rise, ${Lab.fmt(r.total)} (off by ${Lab.fmt(Math.abs(r.gap))}).`;
    } catch (e) { /* shown */ } finally {
      asking = false;
      if (again) { again = false; explain(); } else $("#why-note").setAttribute("aria-busy", "false");
    }
  }

  clearPad();
  load();
})();
