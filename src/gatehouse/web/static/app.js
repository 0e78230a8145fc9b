// gatehouse WHM pages: small progressive enhancements. Every form works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // The menu's live filter: "api" finds Manage API Tokens; "/" focuses it.
  const menuFilter = document.querySelector("[data-menu-filter]");
  if (menuFilter) {
    const apply = () => {
      const words = menuFilter.value.trim().toLowerCase();
      let shown = 0;
      document.querySelectorAll("[data-menu-group]").forEach((group) => {
        const title = group.querySelector("h2").textContent.toLowerCase();
        let groupShown = 0;
        group.querySelectorAll("[data-menu-item]").forEach((item) => {
          const match = !words || item.textContent.toLowerCase().includes(words) || title.includes(words);
          item.hidden = !match;
          if (match) groupShown += 1;
        });
        group.hidden = groupShown === 0;
        shown += groupShown;
      });
      const empty = document.querySelector("[data-menu-empty]");
      if (empty) empty.hidden = shown !== 0;
    };
    menuFilter.addEventListener("input", apply);
    menuFilter.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        const first = document.querySelector("[data-menu-item]:not([hidden]) a");
        if (first) { event.preventDefault(); first.click(); }
      } else if (event.key === "Escape") {
        menuFilter.value = ""; apply();
      }
    });
    document.addEventListener("keydown", (event) => {
      const tag = (event.target.tagName || "").toLowerCase();
      if (event.key === "/" && !["input", "textarea", "select"].includes(tag)) {
        event.preventDefault(); menuFilter.focus();
      }
    });
  }

  // The token table's live filter (the form still filters on the server without JS).
  document.querySelectorAll("[data-table-filter]").forEach((input) => {
    const table = document.getElementById(input.dataset.tableFilter);
    input.addEventListener("input", () => {
      const words = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr[data-name]").forEach((row) => {
        row.hidden = words !== "" && !row.dataset.name.toLowerCase().includes(words);
      });
    });
  });

  // Everything, and select all / none per category.
  document.querySelectorAll("[data-acl]").forEach((section) => {
    const everything = section.querySelector("[data-everything]");
    const boxes = () => Array.from(section.querySelectorAll("input[name=acl]"));
    const sync = () => {
      if (everything) everything.checked = boxes().length > 0 && boxes().every((b) => b.checked);
    };
    if (everything) {
      everything.addEventListener("change", () => {
        boxes().forEach((b) => { b.checked = everything.checked; });
      });
    }
    section.querySelectorAll("input[name=acl]").forEach((b) => b.addEventListener("change", sync));
    section.querySelectorAll("[data-category]").forEach((category) => {
      const bulk = category.querySelector("[data-bulk]");
      if (bulk) bulk.hidden = false;
      category.querySelectorAll("[data-select]").forEach((button) => {
        button.addEventListener("click", () => {
          const on = button.dataset.select === "all";
          category.querySelectorAll("input[name=acl]").forEach((b) => { b.checked = on; });
          sync();
        });
      });
    });
  });

  // Copy the new token to the clipboard (never to any storage).
  document.querySelectorAll("[data-copy]").forEach((button) => {
    const field = document.getElementById(button.dataset.copy);
    const status = document.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", async () => {
      field.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch (error) {
        copied = document.execCommand && document.execCommand("copy");
      }
      if (status) status.textContent = copied ? "Copied to the clipboard." : "Select the token and copy it.";
      button.textContent = copied ? "Copied" : "Copy";
    });
  });
});
