// "Re-aggregate gold" on the agreement dashboard: start the GoldJob, follow it, reload.

import { api, ApiError } from "./api.js";

const card = document.getElementById("lb-gold-status");
const button = document.getElementById("lb-reaggregate");
const status = document.getElementById("lb-reaggregate-status");

async function follow(jobId) {
  for (;;) {
    const job = await api("GET", `/api/gold-jobs/${jobId}/`);
    status.textContent = `Gold job #${job.id}: ${job.status}`;
    if (job.status === "done") {
      window.location.reload();
      return;
    }
    if (job.status === "failed") {
      status.textContent = `Gold job #${job.id} failed: ${job.error || "unknown error"}`;
      button.disabled = false;
      return;
    }
    await new Promise((ok) => setTimeout(ok, 800));
  }
}

if (card && button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Starting…";
    try {
      const job = await api("POST", `/api/projects/${card.dataset.project}/gold/reaggregate/`, { kind: card.dataset.kind });
      await follow(job.id);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status.textContent = `Could not re-aggregate: ${err.body.detail || err.message}`;
      button.disabled = false;
    }
  });
}
