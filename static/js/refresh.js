// Refreshes the status panel in place every few seconds; skipped while a form field has
// focus. A plan showing a what-if is kept across refreshes; the what-if form and its
// "back" link load the plan alone (GET, nothing saved) into its section.
// A button with data-confirm (the manual buy and exit) asks first, data-confirm-many's words
// when its form's hedge_baskets is not 1: no inline handler, which the
// Content-Security-Policy would block.
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
        const whatIfs = [...box.querySelectorAll("[data-plan][data-what-if]")];
        box.innerHTML = await answer.text();
        for (const kept of whatIfs) document.getElementById(kept.id)?.replaceWith(kept);
        box.dataset.refreshedAt = new Date().toISOString();
      }
    } catch (error) {
      box.dataset.refreshError = String(error);
    }
  }

  async function loadPlan(section, planUrl) {
    section.setAttribute("aria-busy", "true");
    try {
      const answer = await fetch(planUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
      if (answer.ok) section.outerHTML = await answer.text();
      else section.removeAttribute("aria-busy");
    } catch (error) {
      section.removeAttribute("aria-busy");
      section.dataset.loadError = String(error);
    }
  }

  box.addEventListener("submit", (event) => {
    const form = event.target.closest("form.what-if");
    if (!form) return;
    event.preventDefault();
    loadPlan(form.closest("[data-plan]"), `${form.action}?${new URLSearchParams(new FormData(form))}`);
  });
  function question(button) {
    const count = button.form.elements.namedItem("hedge_baskets");
    if (!count || count.value === "1" || !button.dataset.confirmMany) return button.dataset.confirm;
    return button.dataset.confirmMany.replace("{n}", count.value);
  }

  box.addEventListener("click", (event) => {
    const asking = event.target.closest("button[data-confirm]");
    // A form the browser will not send (an empty or out-of-range count) asks nothing.
    if (asking && asking.form.checkValidity() && !window.confirm(question(asking))) event.preventDefault();
  });
  box.addEventListener("click", (event) => {
    const back = event.target.closest("a.plan-reset");
    if (!back) return;
    event.preventDefault();
    loadPlan(back.closest("[data-plan]"), back.href);
  });

  setInterval(refresh, every);
})();
