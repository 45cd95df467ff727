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

  // "Adicionar Informação" rows. The page comes with three empty rows so
  // that several can be filled in without JavaScript; here one is enough,
  // and the button adds more.
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
      const initial = parseInt(fieldset.querySelector(`input[name="${prefix}-INITIAL_FORMS"]`).value, 10);
      const isEmpty = (row) => Array.from(row.querySelectorAll("input[type=text]")).every((input) => !input.value)
        && !row.querySelector(".invalid-feedback");
      const blank = Array.from(rows.children).slice(initial).filter(isEmpty);
      // Only trailing blank rows can go without renumbering the others.
      while (blank.length > 1 && rows.lastElementChild === blank[blank.length - 1]) {
        blank.pop().remove();
        total.value = String(parseInt(total.value, 10) - 1);
      }
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

  function enableCopyButtons(root) {
    root.querySelectorAll(".app-copy[hidden]").forEach((button) => { button.hidden = false; });
  }

  function enhance(root) {
    enableFormsets(root);
    enableCopyButtons(root);
  }

  document.addEventListener("DOMContentLoaded", () => enhance(document));
  // Back and Forward: htmx fetches the whole page again and swaps it in
  // without a target; the new rows need the same enhancement.
  document.addEventListener("htmx:historyRestore", () => enhance(document));
  // Each Back or Forward asks the server for its page (no history cache),
  // and htmx swaps in whatever answer arrives, in the order they arrive:
  // after quick Back, Back, Forward an earlier page could land last and
  // show its rows under the address of another. Only the latest counts.
  let restoring = null;
  document.addEventListener("htmx:historyCacheMiss", (event) => {
    if (restoring) restoring.abort();
    restoring = event.detail.xhr;
    restoring.addEventListener("loadend", () => {
      if (restoring === event.detail.xhr) restoring = null;
    });
  });

  // The popup: opened by htmx, focus on the first (wrong) field; on close,
  // focus goes back to what opened it.
  let opener = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const dialog = modal();
    if (dialog && event.detail.target === dialog && !dialog.open) opener = event.detail.elt;
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target) return; // a history restore: handled above
    enhance(target);
    const dialog = modal();
    if (dialog && target === dialog) {
      if (!dialog.open) dialog.showModal();
      const first = dialog.querySelector(".has-error input, .has-error select")
        || dialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });

  function refocusOpener() {
    if (opener && opener.isConnected) {
      opener.focus();
    } else if (opener && opener.id) {
      const again = document.getElementById(opener.id);
      if (again) again.focus();
    } else if (opener && opener.closest("tr[id]")) {
      // The list was refreshed: the same row's button, if it is still there.
      const row = document.getElementById(opener.closest("tr[id]").id);
      const same = row && row.querySelector(`a[title="${opener.getAttribute("title")}"]`);
      if (same) same.focus();
    }
    opener = null;
  }

  // Unsaved changes in the popup are not thrown away without asking.
  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("form[data-confirm-leave]");
    if (form) form.dataset.dirty = "1";
  });
  document.addEventListener("change", (event) => {
    const form = event.target.closest && event.target.closest("form[data-confirm-leave]");
    if (form) form.dataset.dirty = "1";
  });

  function mayClose(dialog) {
    const form = dialog.querySelector("form[data-confirm-leave][data-dirty]");
    return !form || window.confirm(form.dataset.confirmLeave);
  }

  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-modal]");
    const dialog = modal();
    if (closer && dialog && dialog.contains(closer)) {
      event.preventDefault();
      if (mayClose(dialog)) dialog.close();
    }
  });

  // Listened for on the document (in the capture phase, as these events do
  // not bubble): Back and Forward replace the body, popup included.
  // Escape asks too.
  document.addEventListener("cancel", (event) => {
    const dialog = modal();
    if (event.target === dialog && !mayClose(dialog)) event.preventDefault();
  }, true);
  document.addEventListener("close", (event) => {
    const dialog = modal();
    if (event.target !== dialog) return;
    dialog.replaceChildren();
    // Focus moves once the list (if it is being refreshed) is back.
    setTimeout(refocusOpener, 0);
  }, true);

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

  // Copy a number (the number itself opens the WhatsApp chat).
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".app-copy");
    if (!button) return;
    const done = () => {
      button.classList.add("copied");
      toast(document.body.dataset.copiedMessage);
      setTimeout(() => button.classList.remove("copied"), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.copy).then(done, () => {});
    }
  });

  // Filters. The address is the state: empty values are not sent, and a
  // removed chip or "Limpar filtros" changes the controls, which then ask
  // for the list (so controls and list never disagree).
  document.addEventListener("htmx:configRequest", (event) => {
    const form = document.getElementById("contact-filters");
    if (event.detail.verb !== "get" || !event.detail.formData || !form) return;
    const data = event.detail.formData;
    // A choice left at its first option (all wallets, name order, 25 per
    // page) says nothing either.
    const defaults = {};
    document.querySelectorAll("#contact-filters select, select[form=contact-filters]").forEach((select) => {
      if (select.options.length) defaults[select.name] = select.options[0].value;
    });
    Array.from(new Set(data.keys())).forEach((key) => {
      const values = data.getAll(key);
      if (values.every((value) => typeof value === "string" && (!value.trim() || value === defaults[key]))) data.delete(key);
    });
  });

  // One history entry per settled search. While the search box is being
  // typed in, each pause refines the entry the typing started instead of
  // adding one; and a request that lands on the address already shown (the
  // search box's "change" when focus moves to another control) adds none.
  let lastSearchEntry = 0;
  const SEARCH_SETTLED_MS = 1500;
  document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
    const update = event.detail.history;
    if (!update || update.type !== "push") return;
    const target = new URL(update.path, window.location.href);
    if (target.pathname + target.search === window.location.pathname + window.location.search) {
      update.type = "replace";
      return;
    }
    const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    const typing = trigger && trigger.type === "input" && trigger.target && trigger.target.id === "filter-q";
    const now = Date.now();
    if (typing && now - lastSearchEntry < SEARCH_SETTLED_MS) update.type = "replace";
    lastSearchEntry = typing ? now : 0;
  });
  // After Back or Forward the next search is a new entry, not a refinement
  // of the one left behind.
  window.addEventListener("popstate", () => { lastSearchEntry = 0; });

  function setFilters(form, params) {
    form.querySelectorAll("input[type=search], input[type=text], input[type=hidden]").forEach((input) => {
      input.value = params.get(input.name) || "";
    });
    form.querySelectorAll("select").forEach((select) => {
      const value = params.get(select.name) || "";
      select.value = Array.from(select.options).some((option) => option.value === value) ? value : select.options[0].value;
    });
    form.querySelectorAll("input[type=checkbox]").forEach((box) => {
      box.checked = params.getAll(box.name).includes(box.value);
    });
    // The page size lives outside the form (it is sent with form="...").
    const perPage = document.querySelector("select[name=per_page][form]");
    if (perPage && params.get("per_page")) perPage.value = params.get("per_page");
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-remove-filter]");
    const form = document.getElementById("contact-filters");
    if (!link || !form || !window.htmx) return;
    event.preventDefault();
    event.stopPropagation();
    setFilters(form, new URL(link.href, window.location.href).searchParams);
    window.htmx.trigger(form, "submit");
  }, true);

  // "Voltar" on an error page: the previous page, if there is one (without
  // JavaScript the link goes to the contacts).
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-history-back]");
    if (!link || window.history.length < 2) return;
    event.preventDefault();
    window.history.back();
  });

  // "Exportar" takes the list's current search and filters along.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-keep-query]");
    if (link) link.search = window.location.search;
  });

  // The language switch keeps the current search and filters.
  document.addEventListener("submit", (event) => {
    if (!event.target.matches(".app-lang")) return;
    const next = event.target.querySelector("input[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
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

  // The reply box: Enter sends, Shift+Enter breaks the line. A key that
  // finishes an input method's composition (accents, Japanese...) is the
  // composition's, not a send; so is a press while the reply is going out.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "Enter" || !box.matches || !box.matches("textarea[data-enter-sends]")) return;
    if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    const form = box.form;
    const button = form && form.querySelector("button[type=submit]");
    const file = form && form.querySelector("input[data-reply-file]");
    const attached = Boolean(file && file.files && file.files.length);
    if (!form || (!box.value.trim() && !attached) || (button && button.disabled)) return;
    form.requestSubmit(button || undefined);
  });

  // The reply's file: its name and size under the box, with "Remover".
  // Without this script the browser's own file box shows it.
  function showReplyFile(input) {
    const form = input.form;
    const shown = form && form.querySelector("[data-reply-file-shown]");
    if (!shown) return;
    const file = input.files && input.files[0];
    shown.hidden = !file;
    if (!file) return;
    const size = file.size >= 1024 * 1024 ? `${(file.size / (1024 * 1024)).toLocaleString(document.documentElement.lang, { maximumFractionDigits: 1 })} MB`
      : `${Math.max(1, Math.round(file.size / 1024)).toLocaleString(document.documentElement.lang)} KB`;
    shown.querySelector("[data-reply-file-name]").textContent = `${file.name} · ${size}`;
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches("input[data-reply-file]")) showReplyFile(event.target);
  });
  document.addEventListener("click", (event) => {
    const clear = event.target.closest("[data-reply-file-clear]");
    const input = clear && clear.form && clear.form.querySelector("input[data-reply-file]");
    if (!input) return;
    input.value = "";
    showReplyFile(input);
    const box = clear.form.querySelector("textarea[data-enter-sends]");
    if (box) box.focus();
  });
  // An image pasted into the reply (a screenshot) is its file; text pasted
  // along with it is still pasted.
  document.addEventListener("paste", (event) => {
    const form = event.target.closest && event.target.closest("form.app-reply");
    const input = form && form.querySelector("input[data-reply-file]");
    const data = event.clipboardData;
    if (!input || !data || typeof DataTransfer === "undefined") return;
    const image = Array.from(data.files || []).find((file) => file.type.startsWith("image/"));
    if (!image) return;
    const attach = form.querySelector("[data-reply-attach]");
    const extension = (image.type.split("/")[1] || "png").replace("jpeg", "jpg");
    const transfer = new DataTransfer();
    transfer.items.add(new File([image], `${attach ? attach.dataset.pastedName : "image"}.${extension}`, { type: image.type }));
    input.files = transfer.files;
    showReplyFile(input);
    if (!data.types.includes("text/plain")) event.preventDefault();
  });

  // After a reply, the new reply box is ready for the next one.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "ticket-body" || !event.detail.elt.matches("form.app-reply")) return;
    const box = event.detail.target.querySelector("textarea[data-enter-sends]");
    if (box) box.focus();
  });

  // Bulk actions. The rows ticked are kept here as well as in their boxes:
  // a search typed just before a tick refreshes the rows (htmx) and would
  // clear the tick; after every refresh the rows still shown are ticked
  // again, and the bar counts what is selected, shown or not.
  const selected = new Set();
  // "Every result" is remembered with the query it was ticked for: a
  // refresh of the same results keeps it, other results clear it.
  let everyResultOf = null;
  function queryInput() { return document.querySelector("input[name=query][form=bulk-form]"); }
  function rowBoxes() { return Array.from(document.querySelectorAll("input[data-bulk-row]")); }
  function syncBulk() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    rowBoxes().forEach((box) => { box.checked = selected.has(box.value); });
    const boxes = rowBoxes();
    const page = document.querySelector("input[data-bulk-page]");
    if (page) {
      page.checked = boxes.length > 0 && boxes.every((box) => box.checked);
      page.indeterminate = !page.checked && boxes.some((box) => box.checked);
    }
    const all = document.querySelector("input[data-bulk-all]");
    const query = queryInput();
    if (all) all.checked = everyResultOf !== null && query !== null && query.value === everyResultOf;
    const everything = Boolean(all && all.checked);
    const count = form.querySelector("[data-bulk-count]");
    if (everything) count.textContent = all.dataset.label;
    else if (selected.size === 1) count.textContent = form.dataset.one;
    else if (selected.size > 1) count.textContent = form.dataset.many.replace("__count__", selected.size.toLocaleString(document.documentElement.lang));
    else count.textContent = form.dataset.none;
    form.classList.toggle("app-bulk-active", everything || selected.size > 0);
  }
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches("input[data-bulk-row]")) {
      if (box.checked) selected.add(box.value); else selected.delete(box.value);
    } else if (box.matches("input[data-bulk-page]")) {
      rowBoxes().forEach((row) => { if (box.checked) selected.add(row.value); else selected.delete(row.value); });
    } else if (box.matches("input[data-bulk-all]")) {
      const query = queryInput();
      everyResultOf = box.checked && query ? query.value : null;
    } else {
      return;
    }
    syncBulk();
  });
  document.addEventListener("click", (event) => {
    if (!event.target.matches("[data-bulk-clear]")) return;
    selected.clear();
    everyResultOf = null;
    syncBulk();
  });
  // Rows ticked but not on the page now go along as hidden fields.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "bulk-form") return;
    form.querySelectorAll("input[data-bulk-kept]").forEach((input) => input.remove());
    const shown = new Set(rowBoxes().map((box) => box.value));
    selected.forEach((id) => {
      if (shown.has(id)) return;
      const input = document.createElement("input");
      input.type = "hidden"; input.name = "contact"; input.value = id; input.dataset.bulkKept = "1";
      form.appendChild(input);
    });
  });
  document.addEventListener("DOMContentLoaded", () => {
    rowBoxes().forEach((box) => { if (box.checked) selected.add(box.value); });
    syncBulk();
  });
  document.addEventListener("htmx:afterSettle", syncBulk);
  document.addEventListener("htmx:historyRestore", syncBulk);

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
