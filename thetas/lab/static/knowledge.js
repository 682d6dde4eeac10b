// Knowledge tracing: one student's answers, the DKT's predicted mastery after each, the suggested next exercise;
// answer as the student (question id and 0/1 only; the server keeps the sequence) and everything updates.
"use strict";

(() => {
  const $ = s => document.querySelector(s);
  let state = null, busy = false;

  function setBusy(on) {
    busy = on;
    for (const id of ["#answer-correct", "#answer-wrong", "#restart"]) $(id).disabled = on;
  }

  function draw() {
    const s = state, T = s.questions.length, M = s.num_questions;
    for (const e of document.querySelectorAll(".kt-name")) e.textContent = s.name;
    $("#count").textContent = `${T}`;
    $("#mastery").textContent = Lab.fmt(s.mean_mastery, 3);
    // the timeline
    const tl = $("#timeline");
    tl.replaceChildren();
    s.questions.forEach((q, t) => {
      const right = s.answers[t] === 1;
      tl.append(Lab.el("span", { class: (right ? "right" : "wrong") + (t >= s.original ? " mine" : ""),
                                 title: `step ${t + 1}: question ${q}, ${right ? "right" : "wrong"}`, text: `${q}` }));
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
      s.questions.forEach((q, t) => {
        ctx.fillStyle = s.answers[t] ? "#fff" : "#000";
        ctx.beginPath();
        ctx.arc((t + 0.5) * cw, (q + 0.5) * ch, Math.max(1.5, Math.min(cw, ch) / 3), 0, 2 * Math.PI);
        ctx.fill();
      });
    }
    canvas.dataset.steps = `${T}`;
    // the suggestion
    const sug = s.suggestion;
    $("#suggestion").textContent = `${sug.question}`;
    $("#suggestion-note").textContent = `P(correct) now ${Lab.fmt(sug.p_correct, 3)}; practising it changes the ` +
      `expected mean mastery by ${sug.gain >= 0 ? "+" : ""}${Lab.fmt(sug.gain, 2)}, the most of any question (one ` +
      `step ahead, both outcomes weighed by P(correct)).`;
    $("#question").value = sug.question;
    $("#question").max = M - 1;
    // mastery now, one bar per question
    const now = $("#now"), nctx = now.getContext("2d"), bw = now.width / M;
    nctx.clearRect(0, 0, now.width, now.height);
    s.mastery.forEach((p, j) => {
      nctx.fillStyle = j === sug.question ? "#2b8a3e" : Lab.css(Lab.sequential(p));
      nctx.fillRect(j * bw + 0.5, now.height * (1 - p), Math.max(1, bw - 1), now.height * p);
    });
    const full = T >= s.max_len;
    $("#answer-correct").disabled = $("#answer-wrong").disabled = full;
  }

  async function start() {
    if (busy) return;
    setBusy(true);
    try {
      state = await Lab.api("/api/knowledge/sessions", { student: +$("#student").value });
      draw();
    } catch (e) { /* shown */ } finally { setBusy(false); if (state) draw(); }
  }

  async function answer(correct) {
    if (busy || !state) return;
    setBusy(true);
    try {
      state = await Lab.api(`/api/knowledge/${state.session}/answer`,
                            { question: +$("#question").value, correct: correct ? 1 : 0 });
    } catch (e) { /* shown */ } finally { setBusy(false); draw(); }
  }

  async function poll() {
    let status;
    try { status = await Lab.api("/api/knowledge/status", undefined, { quiet: true }); } catch (e) {
      setTimeout(poll, 2000);
      return;
    }
    const box = $("#kt-status");
    if (status.state === "ready") {
      box.hidden = true;
      const sel = $("#student");
      sel.replaceChildren(...status.students.map(s => Lab.el("option", { value: s.index,
                                                                         text: `${s.name} (${s.answers} answers)` })));
      setBusy(false);
      start();
      return;
    }
    box.hidden = false;
    $("#kt-message").textContent = status.state === "training" ? `training… ${status.message}` : status.message;
    $("#kt-progress").style.width = `${Math.round(100 * ((status.progress || {}).fraction || 0))}%`;
    if (status.state !== "failed") setTimeout(poll, 500);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setBusy(true);
    $("#student").addEventListener("change", start);
    $("#restart").addEventListener("click", start);
    $("#answer-correct").addEventListener("click", () => answer(true));
    $("#answer-wrong").addEventListener("click", () => answer(false));
    poll();
  });
})();
