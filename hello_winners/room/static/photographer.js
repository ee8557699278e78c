// The photographer's page: ask every few seconds which product the room asks for; when it changes
// (a new assignment, or one withdrawn), load the page again, unless a photo is being chosen or sent.
"use strict";
(() => {
  const box = document.getElementById("assignment");
  if (!box) return;
  let busy = false;
  document.addEventListener("change", () => { busy = true; });
  document.addEventListener("submit", () => { busy = true; });
  async function check() {
    if (busy) return;
    try {
      const answer = await fetch("/api/assignment", { credentials: "same-origin", cache: "no-store" });
      if (!answer.ok) return;
      const { product } = await answer.json();
      if ((product || "") !== box.dataset.product) location.reload();
    } catch (_) { /* offline for a moment: ask again later */ }
  }
  setInterval(check, 2000);
})();
