// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function modal() { return document.getElementById("modal"); }

  function toast(message) {
    const box = document.getElementById("toasts");
    if (!box || !message) return;
    const item = document.createElement("div");
    item.className = "app-toast";
    item.setAttribute("role", "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(() => item.remove(), 4000);
  }

  function enableFormsets(root) {
    root.querySelectorAll("[data-formset]").forEach((fieldset) => {
      const prefix = fieldset.dataset.formset;
      const add = fieldset.querySelector("[data-formset-add]");
      const rows = fieldset.querySelector("[data-formset-rows]");
      const template = fieldset.querySelector("[data-formset-template]");
      const total = fieldset.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
      if (!add || !rows || !template || !total || add.dataset.ready) return;
      add.dataset.ready = "1";
      add.hidden = false;
      add.addEventListener("click", () => {
        const index = parseInt(total.value, 10);
        const html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        const input = rows.lastElementChild && rows.lastElementChild.querySelector("input[type=text]");
        if (input) input.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => enableFormsets(document));

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    enableFormsets(target);
    const dialog = modal();
    if (dialog && target === dialog) {
      if (!dialog.open) dialog.showModal();
      // After a failed save, bring the first wrong field into view.
      const first = dialog.querySelector(".has-error input, .has-error select")
        || dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });

  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-modal]");
    const dialog = modal();
    if (closer && dialog && dialog.contains(closer)) {
      event.preventDefault();
      dialog.close();
    }
  });

  // The edit popup's tabs (Details, History): show the chosen panel; htmx
  // loads the history into its panel. On full pages the tabs are links.
  document.addEventListener("click", (event) => {
    const tab = event.target.closest(".app-tabs [data-tab]");
    const dialog = modal();
    if (!tab || !dialog || !dialog.contains(tab)) return;
    event.preventDefault();
    dialog.querySelectorAll("[data-tab-panel]").forEach((panel) => {
      panel.hidden = panel.dataset.tabPanel !== tab.dataset.tab;
    });
    dialog.querySelectorAll(".app-tabs [data-tab]").forEach((other) => {
      other.classList.toggle("active", other === tab);
      if (other === tab) other.setAttribute("aria-current", "page");
      else other.removeAttribute("aria-current");
    });
  });

  // Saved or deleted: close the popup, say so, and reload the list as it is
  // now (same search, same page).
  document.addEventListener("contacts-changed", (event) => {
    const dialog = modal();
    if (dialog && dialog.open) dialog.close();
    toast(event.detail && event.detail.message);
    if (document.getElementById("contact-results") && window.htmx) {
      window.htmx.ajax("GET", window.location.href, { target: "#contact-results", swap: "innerHTML" });
    }
  });

  // A refusal that explains itself (an upload too large) sends its message
  // in HX-Trigger; any other server error must not leave the popup silently
  // stuck.
  document.addEventListener("show-message", (event) => toast(event.detail && event.detail.message));
  document.addEventListener("htmx:responseError", (event) => {
    if (!event.detail.xhr.getResponseHeader("HX-Trigger")) toast(document.body.dataset.errorMessage);
  });
})();

// A click outside an open filter dropdown closes it.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.app-dropdown[open]").forEach((details) => {
    if (!details.contains(event.target)) details.removeAttribute("open");
  });
});
document.documentElement.classList.add("js");
