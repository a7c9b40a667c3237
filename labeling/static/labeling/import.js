// Import page: drag-and-drop onto the file input, then poll the ImportJob until it ends.

const job = JSON.parse(document.getElementById("lb-import-job").textContent);
const zone = document.getElementById("lb-dropzone");
const input = zone && zone.querySelector("input[type=file]");

if (zone && input) {
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("drag"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("drag"); }));
  zone.addEventListener("drop", (e) => { if (e.dataTransfer.files.length) input.files = e.dataTransfer.files; });
}

const LABEL = { queued: "Queued…", running: "Importing…", done: "Done", failed: "Failed" };

function show(j) {
  document.getElementById("lb-job").hidden = false;
  document.getElementById("lb-job-name").textContent = j.filename ? `of ${j.filename}` : "";
  const pct = Math.round(100 * (j.status === "done" ? 1 : j.progress || 0));
  document.getElementById("lb-job-bar").style.width = `${pct}%`;
  document.getElementById("lb-job-status").textContent = `${LABEL[j.status] || j.status} ${j.status === "running" ? pct + "%" : ""}`;
  const counts = document.getElementById("lb-job-counts");
  counts.textContent = j.status === "done"
    ? `${j.n_created} new document${j.n_created === 1 ? "" : "s"} of ${j.n_documents} read (the rest were already imported).`
    : "";
  const errors = document.getElementById("lb-job-errors");
  errors.replaceChildren();
  if (j.errors && j.errors.length) {
    const box = document.createElement("div");
    box.className = "lb-msg error";
    box.append(`${j.errors.length} problem${j.errors.length === 1 ? "" : "s"}; nothing of this file was imported:`);
    const ul = document.createElement("ul");
    for (const e of j.errors.slice(0, 50)) {
      const li = document.createElement("li");
      li.textContent = [e.line ? `line ${e.line}` : "", e.field, e.message].filter(Boolean).join(": ");
      ul.append(li);
    }
    box.append(ul);
    errors.append(box);
  }
}

async function poll(id) {
  try {
    const r = await fetch(`../../../import-job/${id}/status/`, { credentials: "same-origin" });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const j = await r.json();
    show(j);
    if (j.status === "queued" || j.status === "running") setTimeout(() => poll(id), 700);
  } catch (err) {
    document.getElementById("lb-job-status").textContent = `Could not read the job status (${err.message}); reload the page.`;
  }
}

if (job) {
  show(job);
  if (job.status === "queued" || job.status === "running") poll(job.id);
}
