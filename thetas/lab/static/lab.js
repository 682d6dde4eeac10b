// thetas lab: what every page shares. The server's JSON API, error display, array decoding, colours, plots.
"use strict";

const Lab = (() => {
  // ------------------------------------------------------------------ errors (the server writes the nav bar)
  let errorTimer = null;
  function showError(message) {
    let box = document.getElementById("error");
    if (!box) {
      box = document.createElement("div");
      box.id = "error";
      box.className = "error";
      document.body.appendChild(box);
    }
    box.textContent = message;
    const close = document.createElement("button");
    close.textContent = "×";
    close.title = "dismiss";
    close.addEventListener("click", () => { box.hidden = true; });
    box.appendChild(close);
    box.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { box.hidden = true; }, 9000);
  }

  // ------------------------------------------------------------------ the API
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // This browser's own random id, sent with every request: the server keeps each client's sessions apart, so
  // that a classmate opening many tabs never pushes out yours (getRandomValues works on a classroom's plain http).
  const CLIENT = (() => {
    const fresh = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), b => b.toString(16).padStart(2, "0")).join("");
    try {
      let id = localStorage.getItem("thetas-lab-client");
      if (!id) { id = fresh(); localStorage.setItem("thetas-lab-client", id); }
      return id;
    } catch (e) { return fresh(); }
  })();

  // GET when body is undefined, else POST of JSON. A refusal shows its message and throws ApiError.
  async function api(path, body, { quiet = false } = {}) {
    const init = body === undefined ? { method: "GET", headers: { "X-Lab-Client": CLIENT } } :
      { method: "POST", headers: { "Content-Type": "application/json", "X-Lab-Client": CLIENT },
        body: JSON.stringify(body) };
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      const err = new ApiError(0, "the lab server does not answer (is `thetas lab` still running?)");
      if (!quiet) showError(err.message);
      throw err;
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const message = (data && data.error) || `${response.status} ${response.statusText}`;
      const err = new ApiError(response.status, message);
      if (!quiet) showError(message);
      throw err;
    }
    return data;
  }

  // ------------------------------------------------------------------ arrays: {"shape", "dtype", "data": base64}
  const TYPES = { float32: Float32Array, uint8: Uint8Array, int8: Int8Array, float64: Float64Array };
  function decode(entry) {
    const bin = atob(entry.data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TYPES[entry.dtype](bytes.buffer);
  }
  function b64bytes(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return btoa(s);
  }

  // ------------------------------------------------------------------ colours
  const A = [245, 147, 34], B = [8, 119, 189], WHITE = [255, 255, 255], INK = [29, 35, 48];
  const mix = (c1, c2, t) => [0, 1, 2].map(i => Math.round(c1[i] + (c2[i] - c1[i]) * t));
  // v in [-1, 1]: orange for negative, blue for positive, white at 0 (TensorFlow Playground's convention)
  function diverging(v) {
    v = Math.max(-1, Math.min(1, v || 0));
    return v < 0 ? mix(WHITE, A, -v) : mix(WHITE, B, v);
  }
  // v in [0, 1]: dark to bright (an activation's strength)
  const RAMP = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
  function sequential(v) {
    v = Math.max(0, Math.min(1, v || 0)) * (RAMP.length - 1);
    const i = Math.min(Math.floor(v), RAMP.length - 2);
    return mix(RAMP[i], RAMP[i + 1], v - i);
  }
  // v in [0, 1] as gray: 0 black, 1 white
  const gray = v => { const g = Math.round(255 * Math.max(0, Math.min(1, v || 0))); return [g, g, g]; };
  const css = c => `rgb(${c[0]},${c[1]},${c[2]})`;

  // Draw values (row-major h × w) onto a canvas, each value one pixel scaled up; colour(v) -> [r, g, b].
  // one offscreen canvas and image per size, reused: a playing Playground paints ~20 maps an update
  const scratch = new Map();
  function heatmap(canvas, values, w, h, colour, { smooth = false, offset = 0 } = {}) {
    let s = scratch.get(`${w}x${h}`);
    if (!s) {
      const small = document.createElement("canvas");
      small.width = w; small.height = h;
      const sctx = small.getContext("2d");
      s = { small, sctx, img: sctx.createImageData(w, h) };
      scratch.set(`${w}x${h}`, s);
    }
    const data = s.img.data, seen = new Map();          // the maps hold few distinct values (uint8, int8): each
    for (let i = 0; i < w * h; i++) {                    // value's colour is computed once a call
      const v = values[offset + i];
      let c = seen.get(v);
      if (c === undefined) { c = colour(v); seen.set(v, c); }
      data[4 * i] = c[0]; data[4 * i + 1] = c[1]; data[4 * i + 2] = c[2]; data[4 * i + 3] = 255;
    }
    s.sctx.putImageData(s.img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = smooth;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(s.small, 0, 0, canvas.width, canvas.height);
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function fmt(x, digits = 3) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
    const a = Math.abs(x);
    if (a === 0) return "0";
    if (a < 1e-3 || a >= 1e5) return x.toExponential(Math.max(1, digits - 1));
    if (a < 1) return `${Number(x.toPrecision(digits))}`;
    return x.toFixed(digits).replace(/\.?0+$/, "") || "0";
  }

  // ------------------------------------------------------------------ a line plot on a canvas
  // series: [{x: [...], y: [...], colour, label, dash}]; options: {logY, xLabel, yLabel, marks: [{x, colour}]}
  function linePlot(canvas, series, opts = {}) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, L = 46, R = 10, T = 10, Bm = 28;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    const tf = v => (opts.logY ? Math.log10(Math.max(v, 1e-12)) : v);
    let xs = [], ys = [];
    for (const s of series) {
      s.x.forEach((x, i) => { if (s.y[i] !== null && Number.isFinite(s.y[i])) { xs.push(x); ys.push(tf(s.y[i])); } });
    }
    for (const m of opts.marks || []) xs.push(m.x);
    if (!xs.length) {
      ctx.fillStyle = "#8a93a6"; ctx.font = "12px system-ui"; ctx.fillText(opts.empty || "no data yet", L, H / 2);
      return;
    }
    let x0 = opts.xMin ?? Math.min(...xs), x1 = opts.xMax ?? Math.max(...xs);
    let y0 = opts.yMin ?? Math.min(...ys), y1 = opts.yMax ?? Math.max(...ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const pad = (y1 - y0) * 0.06, lowest = y0;
    y0 -= pad; y1 += pad;
    if (!opts.logY && lowest >= 0 && opts.yMin === undefined) y0 = Math.max(y0, 0);   // a loss is never negative
    const px = x => L + (x - x0) / (x1 - x0) * (W - L - R);
    const py = y => T + (1 - (y - y0) / (y1 - y0)) * (H - T - Bm);
    ctx.strokeStyle = "#d9dde5"; ctx.lineWidth = 1; ctx.fillStyle = "#5d6575"; ctx.font = "11px system-ui";
    for (let i = 0; i <= 4; i++) {
      const y = y0 + (y1 - y0) * i / 4, yy = py(y);
      ctx.beginPath(); ctx.moveTo(L, yy); ctx.lineTo(W - R, yy); ctx.stroke();
      ctx.fillText(fmt(opts.logY ? Math.pow(10, y) : y, 2), 2, yy + 4);
    }
    for (let i = 0; i <= 4; i++) {
      const x = x0 + (x1 - x0) * i / 4;
      const label = fmt(x, 1), wide = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(px(x) - wide / 2, W - R - wide), H - Bm + 14);
    }
    if (opts.xLabel) ctx.fillText(opts.xLabel, W - R - ctx.measureText(opts.xLabel).width, H - 3);
    for (const m of opts.marks || []) {
      ctx.strokeStyle = m.colour; ctx.setLineDash(m.dash || [4, 3]); ctx.beginPath();
      ctx.moveTo(px(m.x), T); ctx.lineTo(px(m.x), H - Bm); ctx.stroke(); ctx.setLineDash([]);
      if (m.label) { ctx.fillStyle = m.colour; ctx.fillText(m.label, px(m.x) + 3, T + 10 + (m.row || 0) * 12); }
    }
    for (const s of series) {
      ctx.strokeStyle = s.colour; ctx.lineWidth = s.width || 2; ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let started = false;
      s.x.forEach((x, i) => {
        const v = s.y[i];
        if (v === null || !Number.isFinite(v)) { started = false; return; }
        const X = px(x), Y = py(tf(v));
        if (started) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); started = true; }
      });
      ctx.stroke(); ctx.setLineDash([]);
      if (s.dots) {
        ctx.fillStyle = s.colour;
        s.x.forEach((x, i) => { ctx.beginPath(); ctx.arc(px(x), py(tf(s.y[i])), 2.5, 0, 2 * Math.PI); ctx.fill(); });
      }
    }
    return { px, py };
  }

  return { api, ApiError, showError, decode, b64bytes, diverging, sequential, gray, css, mix, heatmap, el, fmt,
           linePlot, A, B };
})();

// A drawing pad the keyboard draws on too (Digits, Inside a neuron): Tab to it; the arrow keys move a pen, drawn over
// the pad and never part of the drawing (Shift: small steps); Space or Enter puts it down or lifts it, and while it
// is down it draws as it moves; Escape lifts it; Backspace, Delete or C clears. draw(a, b) strokes from point a to b
// (pad pixels); moved() follows a stroke, lifted() the pen going up (the moment a mouse's stroke ends), cleared() a
// clear; size() is the pen's width.
Lab.keyPen = (pad, { draw, moved = () => {}, lifted = () => {}, cleared = () => {}, size = () => 20 }) => {
  const cursor = document.createElement("canvas");
  cursor.className = "pen-cursor";
  cursor.width = pad.width; cursor.height = pad.height;
  cursor.setAttribute("aria-hidden", "true");
  pad.after(cursor);
  pad.tabIndex = 0;
  pad.setAttribute("role", "application");
  pad.setAttribute("aria-roledescription", "drawing pad");
  pad.setAttribute("aria-label", "Drawing pad. With the keyboard: the arrow keys move the pen (Shift: small steps), " +
                   "Space or Enter puts the pen down or lifts it, Backspace or C clears.");
  const STEP = pad.width / 28;                      // one pixel of the 28×28 image the network sees
  let x = pad.width / 2, y = pad.height / 2, down = false, shown = false, byPointer = false;
  const clamp = v => Math.max(0, Math.min(pad.width, v));
  function show() {
    shown = true;
    Object.assign(cursor.style, { left: `${pad.offsetLeft + pad.clientLeft}px`, top: `${pad.offsetTop + pad.clientTop}px`,
                                  width: `${pad.clientWidth}px`, height: `${pad.clientHeight}px` });
    const g = cursor.getContext("2d"), r = Math.max(3, size() / 2);
    g.clearRect(0, 0, cursor.width, cursor.height);
    g.lineWidth = 2; g.strokeStyle = "#3b5bdb"; g.fillStyle = "rgba(59, 91, 219, 0.35)";
    g.beginPath(); g.arc(x, y, r, 0, 2 * Math.PI);
    if (down) g.fill();
    g.stroke();
    g.beginPath(); g.moveTo(x - r - 6, y); g.lineTo(x - r + 2, y); g.moveTo(x + r - 2, y); g.lineTo(x + r + 6, y);
    g.moveTo(x, y - r - 6); g.lineTo(x, y - r + 2); g.moveTo(x, y + r - 2); g.lineTo(x, y + r + 6); g.stroke();
  }
  function hide() { shown = false; cursor.getContext("2d").clearRect(0, 0, cursor.width, cursor.height); }
  pad.addEventListener("pointerdown", () => { byPointer = true; hide(); });   // focus by a mouse: no pen shown
  pad.addEventListener("focus", () => { if (!byPointer) show(); byPointer = false; });
  pad.addEventListener("blur", () => { if (down) { down = false; lifted(); } hide(); });
  pad.addEventListener("keydown", e => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key in moves) {
      const s = e.shiftKey ? STEP / 3 : STEP, [dx, dy] = moves[e.key], from = [x, y];
      x = clamp(x + dx * s); y = clamp(y + dy * s);
      if (down) { draw(from, [x, y]); moved(); }
    } else if (e.key === " " || e.key === "Enter") {
      down = !down;
      if (down) { draw([x, y], [x + 0.01, y]); moved(); } else lifted();
    } else if (e.key === "Escape" && down) {
      down = false; lifted();
    } else if (e.key === "Backspace" || e.key === "Delete" || e.key === "c" || e.key === "C") {
      down = false; cleared();
    } else return;
    e.preventDefault();
    show();
  });
  return { get down() { return down; }, get shown() { return shown; } };
};
