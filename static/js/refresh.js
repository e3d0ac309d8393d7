// Refreshes the status panel in place every few seconds; skipped while a form field has focus.
(function () {
  const box = document.getElementById("status");
  if (!box) return;
  const url = box.dataset.refreshUrl;
  const every = Number(box.dataset.refreshSeconds || 10) * 1000;

  async function refresh() {
    if (box.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    try {
      const answer = await fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
      if (answer.redirected) {  // logged out meanwhile: show the login page
        window.location.reload();
      } else if (answer.ok) {
        box.innerHTML = await answer.text();
        box.dataset.refreshedAt = new Date().toISOString();
      }
    } catch (error) {
      box.dataset.refreshError = String(error);
    }
  }

  setInterval(refresh, every);
})();
