// Knowledge tracing: one student's answers, the DKT's predicted mastery after each, the suggested next exercise;
// answer as the student (question id and 0/1 only; the server keeps the sequence) and everything updates.
// The students come from synthetic-5 or from a file: loaded with `thetas lab --students PATH` or uploaded here
// (its text only; the server trains a DKT on it once, and the page polls until it is ready).
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  let state = null, busy = false, graph = null, status = null, dataset = null, generation = 0;
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#9467bd", "#d62728", "#17becf", "#8c564b", "#e377c2", "#7f7f7f"];

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  // "54" for synthetic-5; "54 (skill 311)" when a file's question ids were renumbered
  function qname(j) {
    const names = status && status.question_names;
    return names && names[j] !== `${j}` ? `${j} (id ${names[j]})` : `${j}`;
  }

  // the concept graph: the questions on a circle (grouped by concept when there are labels), arrows i -> j
  function drawGraph() {
    const root = $("#graph");
    if (!graph || !state) return;
    const M = state.num_questions, labels = graph.labels, size = 640, c = size / 2, R = size / 2 - 40;
    const order = [...Array(M).keys()];
    if (labels) order.sort((a, b) => labels[a] - labels[b] || a - b);
    const groups = labels ? new Set(labels).size : 1, gap = labels ? 0.6 : 0;   // a gap between the concepts
    const slots = M + groups * gap, pos = new Array(M);
    let slot = 0, prev = null;
    order.forEach(q => {
      if (labels && prev !== null && labels[q] !== prev) slot += gap;
      prev = labels ? labels[q] : null;
      const t = 2 * Math.PI * slot / slots - Math.PI / 2;
      pos[q] = [c + R * Math.cos(t), c + R * Math.sin(t)];
      slot += 1;
    });
    const defs = svg("defs");
    const marker = svg("marker", { id: "kt-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9,
                                   markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#333" }));
    defs.append(marker);
    const edges = svg("g", { class: "kt-edges" }), nodes = svg("g", { class: "kt-nodes" });
    const wmax = Math.max(1e-9, ...graph.edges.map(e => e[2]));
    const r = Math.max(4, Math.min(11, 0.42 * 2 * Math.PI * R / slots));   // smaller nodes for many questions
    const last = state.questions.length ? state.questions[state.questions.length - 1] : -1;
    const sug = state.suggestion.question;
    for (const [i, j, w] of graph.edges) {
      const [x1, y1] = pos[i], [x2, y2] = pos[j], dx = x2 - x1, dy = y2 - y1, d = Math.hypot(dx, dy) || 1;
      const f = w / wmax, hot = i === last || i === sug;
      const line = svg("line", { x1: x1 + dx / d * r, y1: y1 + dy / d * r, x2: x2 - dx / d * (r + 2),
                                 y2: y2 - dy / d * (r + 2), stroke: hot ? "#2b2b2b" : "#555",
                                 "stroke-width": (0.5 + 3 * f).toFixed(2),
                                 "stroke-opacity": (hot ? Math.max(0.6, f) : 0.12 + 0.6 * f).toFixed(2),
                                 "marker-end": "url(#kt-arrow)" });
      line.append(svg("title"));
      line.firstChild.textContent = `${qname(i)} → ${qname(j)}: ${Lab.fmt(w, 3)}`;
      edges.append(line);
    }
    for (let q = 0; q < M; q++) {
      const [x, y] = pos[q], g = svg("g", { class: "kt-node", "data-q": q });
      const fill = labels ? PALETTE[labels[q] % PALETTE.length] : "#888";
      const ring = q === sug ? "#2b8a3e" : q === last ? "#000" : "#fff";
      g.append(svg("circle", { cx: x, cy: y, r: r, fill: fill, stroke: ring,
                               "stroke-width": q === sug || q === last ? 4 : 1.5 }));
      if (r >= 8) {
        const label = svg("text", { x: x, y: y + 4, "text-anchor": "middle", "font-size": r >= 10 ? 10 : 8,
                                    fill: "#fff", "font-family": "sans-serif" });
        label.textContent = `${q}`;
        g.append(label);
      }
      const title = svg("title");
      title.textContent = `question ${qname(q)}` + (labels ? `, concept ${labels[q] + 1}` : "") +
        `, P(correct) now ${Lab.fmt(state.mastery[q], 3)}`;
      g.append(title);
      g.addEventListener("click", () => { $("#question").value = q; });
      nodes.append(g);
    }
    root.replaceChildren(defs, edges, nodes);
    root.dataset.nodes = `${M}`;
    $("#graph-students").textContent = `${graph.students}`;
    $("#graph-note").textContent = `${graph.edges.length} edges` +
      (labels ? `, ${groups} concepts` : " (install scikit-learn for the concepts)") +
      `; computed once in ${Lab.fmt(graph.seconds, 2)} s.`;
  }

  function setBusy(on) {
    busy = on;
    for (const id of ["#answer-correct", "#answer-wrong", "#restart", "#student"]) $(id).disabled = on;
  }

  function draw() {
    const s = state, T = s.questions.length, M = s.num_questions;
    for (const e of document.querySelectorAll(".kt-name")) e.textContent = s.name;
    $("#count").textContent = `${T}` + (s.total > s.original ?
      ` (this student has ${s.total}; the session starts with the first ${s.original})` : "");
    const every = Math.max(1, Math.ceil(M / 10));            // the rows' labels: every few questions, both ends
    const ticks = [...Array(M).keys()].filter(j => j % every === 0 || j === M - 1);
    $("#kt-axis").replaceChildren(...ticks.map(j => Lab.el("span", { text: `q${j}`, ...(j === M - 1 ? { id: "kt-last-q" } : {}) })));
    $("#mastery").textContent = Lab.fmt(s.mean_mastery, 3);
    // the timeline
    const tl = $("#timeline");
    tl.replaceChildren();
    s.questions.forEach((q, t) => {
      const right = s.answers[t] === 1;
      tl.append(Lab.el("span", { class: (right ? "right" : "wrong") + (t >= s.original ? " mine" : ""),
                                 title: `step ${t + 1}: question ${qname(q)}, ${right ? "right" : "wrong"}`,
                                 text: `${q}` }));
    });
    // the heatmap: rows questions, columns steps
    const canvas = $("#heatmap"), ctx = canvas.getContext("2d");
    if (T === 0) {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
    } else {
      const trace = Lab.decode(s.trace), img = new Float32Array(T * M);
      for (let t = 0; t < T; t++) for (let j = 0; j < M; j++) img[j * T + t] = trace[t * M + j];
      Lab.heatmap(canvas, img, T, M, Lab.sequential);
      const cw = canvas.width / T, ch = canvas.height / M;
      s.questions.forEach((q, t) => {             // right: a white dot ringed in black; wrong: a black cross
        const x = (t + 0.5) * cw, y = (q + 0.5) * ch, r = Math.max(2, Math.min(cw, ch) / 3);
        if (s.answers[t]) {
          ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
          ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
        } else {
          for (const [colour, width] of [["#fff", 3], ["#000", 1.5]]) {
            ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
            ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.stroke();
          }
        }
      });
    }
    canvas.dataset.steps = `${T}`;
    // the suggestion
    const sug = s.suggestion;
    $("#suggestion").textContent = `${sug.question}`;
    const again = T > 0 && s.questions[T - 1] === sug.question;
    $("#suggestion-note").textContent = (qname(sug.question) !== `${sug.question}` ?
      `Question ${qname(sug.question)} in the file. ` : "") + `P(correct) now ${Lab.fmt(sug.p_correct, 3)}; practising it changes the ` +
      `expected mean mastery by ${sug.gain >= 0 ? "+" : ""}${Lab.fmt(sug.gain, 3)}, the most of any question (one ` +
      `step ahead, both outcomes weighed by P(correct)).` +
      (sug.gain <= 0 ? " No question is expected to raise the mean now: this is the one that lowers it least. The " +
        "look-ahead sees one answer ahead and trusts the network, so a student who keeps getting things right (or " +
        "wrong) can be sent to the same question again and again." : "") +
      (again && sug.gain > 0 ? " The same question as the last answer: one more answer to it still moves the " +
        "network's predictions most." : "");
    $("#question").value = sug.question;
    $("#question").max = M - 1;
    // mastery now, one bar per question
    const now = $("#now"), nctx = now.getContext("2d"), bw = now.width / M;
    nctx.clearRect(0, 0, now.width, now.height);
    s.mastery.forEach((p, j) => {
      nctx.fillStyle = j === sug.question ? "#237a35" : Lab.css(Lab.sequential(p));
      nctx.fillRect(j * bw + 0.5, now.height * (1 - p), Math.max(1, bw - 1), now.height * p);
    });
    const full = T >= s.max_len;
    $("#answer-correct").disabled = $("#answer-wrong").disabled = full;
    drawGraph();
  }

  $("#heatmap").addEventListener("mousemove", e => {          // which cell: its question, the answer, P(correct)
    if (!state || !state.questions.length) return;
    const c = e.target, r = c.getBoundingClientRect(), T = state.questions.length, M = state.num_questions;
    const t = Math.min(T - 1, Math.floor((e.clientX - r.left) / r.width * T));
    const j = Math.min(M - 1, Math.floor((e.clientY - r.top) / r.height * M));
    const p = (state.decoded || (state.decoded = Lab.decode(state.trace)))[t * M + j];
    c.title = `after answer ${t + 1} (question ${qname(state.questions[t])}, ${state.answers[t] ? "right" : "wrong"}): ` +
      `P(question ${qname(j)} correct) = ${Lab.fmt(p, 3)}`;
  });

  async function start() {
    if (busy || !status || status.state !== "ready") return;
    setBusy(true);
    try {
      state = await Lab.api("/api/knowledge/sessions", { dataset: status.dataset, student: +$("#student").value });
      draw();
    } catch (e) { /* shown */ } finally { setBusy(false); if (state) draw(); }
  }

  async function answer(correct) {
    if (busy || !state) return;
    setBusy(true);
    const before = state.mean_mastery;
    try {
      state = await Lab.api(`/api/knowledge/${state.session}/answer`,
                            { question: +$("#question").value, correct: correct ? 1 : 0 });
      explainChange(before, state.mean_mastery, correct);
    } catch (e) { /* shown */ } finally { setBusy(false); draw(); }
  }

  // a wrong answer that raises the predicted mastery (or a right one that lowers it) deserves a word
  function explainChange(before, after, correct) {
    const note = $("#mastery-note"), d = after - before;
    const odd = (correct && d < -0.001) || (!correct && d > 0.001);
    note.hidden = !odd;
    if (!odd) return;
    note.textContent = `Mean mastery went ${d > 0 ? "up" : "down"} (${Lab.fmt(before, 3)} → ${Lab.fmt(after, 3)}) after ` +
      `a ${correct ? "right" : "wrong"} answer. DKT is not a grade: it predicts the next answers from what the ` +
      `students it learned from did next. ${correct ? "Among them, a right answer here was often followed by wrong " +
      "ones (a lucky guess, or a harder stretch ahead)." : "Among them, a wrong answer here was often followed by " +
      "right ones: students who practise a question they missed tend to get the next ones."}`;
  }

  // the data sets: synthetic-5 and the loaded files, the chosen one selected
  function listDatasets(s) {
    const sel = $("#dataset");
    sel.replaceChildren(...s.datasets.map(d => Lab.el("option", {
      value: d.key, text: d.name + (d.state === "training" ? " (training…)" : d.state === "failed" ? " (failed)" : "") })));
    sel.value = s.dataset;
  }

  // ask for the chosen data set's status until its model is ready; a newer choice stops an older loop
  async function poll(mine = generation) {
    if (mine !== generation) return;
    let s;
    const query = dataset ? `?dataset=${encodeURIComponent(dataset)}` : "";
    try { s = await Lab.api(`/api/knowledge/status${query}`, undefined, { quiet: true }); } catch (e) {
      if (e.status === 404) { Lab.showError(e.message); dataset = null; }   // gone: back to the default
      setTimeout(() => poll(mine), 2000);
      return;
    }
    if (mine !== generation) return;
    status = s;
    dataset = s.dataset;
    listDatasets(s);
    $("#kt-about").textContent = s.description;
    $("#kt-model").textContent = s.state === "ready" ? `Model: ${s.message}.` : "";
    const box = $("#kt-status");
    if (s.state === "ready") {
      box.hidden = true;
      graph = s.graph || null;
      if (!graph) {
        $("#graph").replaceChildren();
        $("#graph-note").textContent = s.num_questions > 150 ? `no concept graph: ${s.num_questions} questions ` +
          "are too many to draw" : "the concept graph could not be computed";
      }
      const sel = $("#student");
      sel.replaceChildren(...s.students.map(st => Lab.el("option", { value: st.index,
        text: `${st.name} (${st.answers} answers${s.kind === "file" && st.held_out ? ", held out" : ""})` })));
      setBusy(false);
      start();
      return;
    }
    box.hidden = false;
    $("#kt-message").textContent = s.state === "training" ? `training… ${s.message}` : s.message;
    $("#kt-progress").style.width = `${Math.round(100 * ((s.progress || {}).fraction || 0))}%`;
    if (s.state !== "failed") setTimeout(() => poll(mine), 500);
  }

  function choose(key) {                     // show another data set: forget the session, poll its status
    dataset = key;
    state = null;
    generation += 1;
    setBusy(true);
    poll(generation);
  }

  async function upload(e) {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    const limit = (status && status.upload_chars) || 4000000;
    if (file.size > 4 * limit) {             // characters <= bytes <= 4 characters each: a sure refusal
      Lab.showError(`${file.name} is ${file.size.toLocaleString()} bytes; the lab takes files up to ` +
                    `${limit.toLocaleString()} characters here (start it with --students PATH for a larger one)`);
      return;
    }
    try {
      const s = await Lab.api("/api/knowledge/datasets", { name: file.name, text: await file.text() });
      choose(s.dataset);
    } catch (err) { /* shown */ }
  }

  document.addEventListener("DOMContentLoaded", () => {
    setBusy(true);
    $("#dataset").addEventListener("change", e => choose(e.target.value));
    $("#upload").addEventListener("change", upload);
    $("#student").addEventListener("change", start);
    $("#restart").addEventListener("click", start);
    $("#answer-correct").addEventListener("click", () => answer(true));
    $("#answer-wrong").addEventListener("click", () => answer(false));
    poll();
  });
})();
