// lrs-ws console: small helpers; every page works without them.
"use strict";

// "Copy" buttons: data-copy names the element whose text goes to the clipboard.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent);
    button.textContent = "Copied";
  } catch (error) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
});

// Refreshing parts: an element with data-refresh="URL" and data-every="SECONDS" is replaced by
// the same element of that URL's page while the page is visible and its checkbox (if any) is on.
function refreshing(element) {
  const every = Number(element.dataset.every || "3") * 1000;
  const toggle = element.dataset.toggle ? document.getElementById(element.dataset.toggle) : null;
  setInterval(async () => {
    if (document.hidden || (toggle && !toggle.checked)) return;
    try {
      const answer = await fetch(element.dataset.refresh, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById(element.id);
      if (fresh && fresh.innerHTML !== element.innerHTML) element.innerHTML = fresh.innerHTML;
    } catch (error) { /* the next round tries again */ }
  }, every);
}
document.querySelectorAll("[data-refresh]").forEach(refreshing);
