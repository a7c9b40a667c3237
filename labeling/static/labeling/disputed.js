// Disputed items: J/K move between rows, Enter opens the row's adjudication page.

const rows = [...document.querySelectorAll("#lb-disputed-table tr[data-task]")];
let at = -1;

function focusRow(i) {
  if (!rows.length) return;
  at = Math.max(0, Math.min(rows.length - 1, i));
  rows.forEach((r, j) => r.classList.toggle("lb-row-focus", j === at));
  rows[at].querySelector("a").focus();
}

document.addEventListener("keydown", (e) => {
  const tag = (e.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag) || e.metaKey || e.ctrlKey || e.altKey) return;
  if (e.key === "j" || e.key === "J") { e.preventDefault(); focusRow(at + 1); }
  else if (e.key === "k" || e.key === "K") { e.preventDefault(); focusRow(at - 1); }
});

document.getElementById("lb-disputed-table").dataset.ready = "true"; // keys work from now on
