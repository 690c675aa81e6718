// 窓口: small progressive enhancements. Every page works without this file.
"use strict";

function setupUpload(form) {
  const input = form.querySelector('input[type="file"]');
  const zone = form.querySelector(".dropzone");
  const list = form.querySelector(".chosen");
  const status = form.querySelector('[role="status"]');
  const bar = form.querySelector("progress");
  const showChosen = () => {
    if (!list) return;
    list.replaceChildren(...Array.from(input.files).map((f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name}（${Math.ceil(f.size / 1024)} KB）`;
      return li;
    }));
  };
  input.addEventListener("change", showChosen);
  if (zone) {
    ["dragenter", "dragover"].forEach((ev) => zone.addEventListener(ev, (e) => {
      e.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((ev) => zone.addEventListener(ev, (e) => {
      e.preventDefault(); zone.classList.remove("over");
    }));
    zone.addEventListener("drop", (e) => {
      const dt = new DataTransfer();
      Array.from(input.files).forEach((f) => dt.items.add(f));
      Array.from(e.dataTransfer.files).forEach((f) => dt.items.add(f));
      input.files = dt.files;
      showChosen();
    });
    zone.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
    });
  }
  form.addEventListener("submit", (e) => {
    if (!input.files.length) return;
    e.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    if (bar) { bar.hidden = false; bar.value = 0; }
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable && bar) bar.value = Math.round((ev.loaded / ev.total) * 100);
      if (status) status.textContent = "送信中…";
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = {}; }
      const errors = body.errors || (body.error ? [body.error.message] : []);
      if (status) status.textContent = errors.join(" / ");
      if (body.cases && body.cases.length && body.redirect) window.location.assign(body.redirect);
      else if (!errors.length && status) status.textContent = `送信できませんでした（${xhr.status}）`;
    });
    xhr.addEventListener("error", () => { if (status) status.textContent = "送信できませんでした。"; });
    xhr.send(new FormData(form));
  });
}

function pollProgress(table) {
  const url = table.dataset.progressUrl;
  let lastStatus = null;
  const tick = async () => {
    let data;
    try {
      const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!resp.ok) return setTimeout(tick, 3000);
      data = await resp.json();
    } catch (_) { return setTimeout(tick, 3000); }
    for (const d of data.documents) {
      const row = table.querySelector(`tr[data-doc="${d.id}"]`);
      if (!row) continue;
      const bar = row.querySelector("progress");
      const pg = row.querySelector(".pg");
      if (bar) { bar.max = d.pages || 1; bar.value = d.pages_done; }
      if (pg) pg.textContent = `${d.pages_done}/${d.pages}`;
    }
    if (lastStatus === null) lastStatus = JSON.stringify([data.status, data.documents.map((d) => d.status), data.notices.map((n) => n.status)]);
    const now = JSON.stringify([data.status, data.documents.map((d) => d.status), data.notices.map((n) => n.status)]);
    if (data.done || now !== lastStatus) { window.location.reload(); return; }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

function setupReview() {
  const form = document.getElementById("fields-form");
  if (!form) return;
  const rects = (key) => document.querySelectorAll(`rect.box[data-key="${CSS.escape(key)}"]`);
  form.querySelectorAll("tr.field").forEach((row) => {
    const key = row.dataset.key;
    row.addEventListener("focusin", () => {
      document.querySelectorAll("rect.box.active").forEach((r) => r.classList.remove("active"));
      document.querySelectorAll("tr.field.active").forEach((r) => r.classList.remove("active"));
      row.classList.add("active");
      const found = rects(key);
      found.forEach((r) => r.classList.add("active"));
      if (found.length) found[0].closest("figure").scrollIntoView({ block: "nearest" });
    });
  });
  document.querySelectorAll("rect.box").forEach((r) => {
    r.addEventListener("click", () => {
      const target = document.getElementById(`f-${r.dataset.key}`);
      if (target) target.focus();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-upload]").forEach(setupUpload);
  const docs = document.getElementById("documents");
  if (docs && (docs.querySelector("progress") || document.querySelector("#notices li[data-notice] .muted"))) {
    pollProgress(docs);
  }
  setupReview();
});
