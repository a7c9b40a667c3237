// Adjudication: the kind's widget draws the annotations and the gold on the text; the
// lead picks one annotation or a value.

import { renderText } from "./spans.js";

const data = JSON.parse(document.getElementById("lb-adjudicate").textContent);
const widget = await import(`./widgets/${data.config.widget}.js`);
const current = data.context.find((s) => s.current);
const context = document.getElementById("lb-context");
renderText(context, data.context, widget.goldMarks(data.gold), current && current.id);
widget.showAdjudication(data, current);

const form = document.getElementById("lb-adjudicate-form");
const choice = document.getElementById("lb-choice");
const label = document.getElementById("lb-label");
const save = document.getElementById("lb-save-gold");
const info = document.getElementById("lb-pick-info");

function pick(value, text) {
  choice.value = value;
  save.disabled = false;
  info.textContent = text;
  document.querySelectorAll(".lb-anno").forEach((n) => n.classList.toggle("picked", n.dataset.choice === value));
  document.querySelectorAll(".lb-label[data-label]").forEach((n) => n.classList.toggle("selected", value === "label" && n.dataset.label === label.value));
}

document.querySelectorAll(".lb-anno").forEach((card) => {
  const who = card.querySelector(".who span").textContent;
  const handler = () => pick(card.dataset.choice, `Gold will be ${who}'s annotation.`);
  card.addEventListener("click", handler);
  card.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); handler(); } });
});
document.querySelectorAll(".lb-label[data-label]").forEach((b) => b.addEventListener("click", () => {
  label.value = b.dataset.label;
  pick("label", `Gold will be “${b.dataset.label}”.`);
}));
document.querySelectorAll("[data-pick=none]").forEach((b) => b.addEventListener("click", () => pick("none", `Gold will be: ${data.config.empty_text}.`)));
document.querySelectorAll("[data-pick=json]").forEach((b) => b.addEventListener("click", () => pick("json", "Gold will be the JSON value entered.")));
form.addEventListener("submit", (e) => { if (!choice.value) { e.preventDefault(); info.textContent = "Pick an annotation or a value first."; } });
form.dataset.ready = "true"; // the handlers above are attached: clicks from now on pick
