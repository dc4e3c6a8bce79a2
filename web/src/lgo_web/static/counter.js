/* LGO counter: keyboard shortcuts and the instant patient search. The pages work without it (forms and links);
   this only maps keys to the buttons and fields that carry data-key="…", as shown on screen. */
(function () {
  "use strict";

  function keyName(event) {
    var key = event.key;
    if (key === "Escape") { return "Escape"; }
    var base = null;
    if (/^F([1-9]|1[0-2])$/.test(key)) { base = key; }
    else if (key.length === 1 && /[a-z0-9]/i.test(key)) { base = key.toUpperCase(); }
    if (base === null) { return null; }
    var prefix = (event.ctrlKey ? "Ctrl+" : "") + (event.altKey ? "Alt+" : "") + (event.shiftKey && base.length > 1 ? "Shift+" : "");
    return prefix + base;
  }

  function typing() {
    var el = document.activeElement;
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(submit|button|checkbox|radio)$/.test(el.type));
  }

  function target(name) {
    var dialog = document.getElementById("fenetre");
    var scopes = dialog ? [dialog] : [];
    var plain = name.length === 1;
    if (!(dialog && plain)) { scopes.push(document); }
    for (var i = 0; i < scopes.length; i++) {
      var found = scopes[i].querySelector('[data-key="' + name + '"]');
      if (found && !found.disabled) { return found; }
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    var name = keyName(event);
    if (name === null) { return; }
    if (name.length === 1 && typing()) { return; }  /* a letter typed in a field is text */
    if (name === "F1") {
      event.preventDefault();
      var help = document.getElementById("aide");
      if (help) { help.hidden = !help.hidden; document.getElementById("aide-bouton").setAttribute("aria-expanded", String(!help.hidden)); }
      return;
    }
    var el = target(name);
    if (!el) { if (/^F/.test(name)) { event.preventDefault(); } return; }
    event.preventDefault();
    var field = (el.tagName === "INPUT" && !/^(checkbox|radio|submit|button)$/.test(el.type)) || el.tagName === "SELECT" || el.tagName === "TEXTAREA";
    if (field) {
      el.focus();
      if (el.select) { el.select(); }
    } else {
      el.click();
    }
  });

  /* Enter in a list (vaccinator, route...) or on a box to tick sends its form with its default button, as in a
     text field. */
  document.addEventListener("keydown", function (event) {
    var el = event.target;
    var box = el.tagName === "INPUT" && /^(checkbox|radio)$/.test(el.type);
    if (event.key !== "Enter" || !(el.tagName === "SELECT" || box) || !el.form) { return; }
    var button = el.form.querySelector("[data-default]") || el.form.querySelector("button[type=submit]");
    if (button) { event.preventDefault(); button.click(); }
  });

  /* A form sent once: a second Enter or click does not send it again (the server refuses it anyway). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-once")) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    }
  });

  /* Parts of a page that need a national service (the DMP in the patient's file): fetched once the page is shown,
     so that the page never waits for them; the link inside stays for a browser without this script. */
  document.addEventListener("DOMContentLoaded", function () {
    var parts = document.querySelectorAll("[data-fragment]");
    Array.prototype.forEach.call(parts, function (part) {
      fetch(part.dataset.fragment, { credentials: "same-origin", headers: { "X-LGO-Fragment": "1" } })
        .then(function (r) { return r.text().then(function (html) { return { ok: r.ok, html: html }; }); })
        .then(function (answer) {
          part.innerHTML = answer.html;
          part.setAttribute("aria-busy", "false");
          part.dataset.loaded = answer.ok ? "ok" : "error";
        })
        .catch(function () {
          part.setAttribute("aria-busy", "false");
          part.dataset.loaded = "error";
          var note = document.createElement("p");
          note.className = "warning";
          note.textContent = "Service indisponible pour le moment : ouvrez le lien ci-dessus pour réessayer.";
          part.appendChild(note);
        });
    });
  });

  /* Instant search: results as you type; arrows move the selection, Enter opens it. */
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-instant]");
    if (!form) { return; }
    var input = form.querySelector("input[name=q]");
    var results = document.getElementById("resultats");
    var asked = input.value, shown = input.value, pending = null, timer = null;

    function refresh() {
      asked = input.value;
      var query = asked;
      pending = fetch(form.dataset.instant + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && query === input.value) { results.innerHTML = html; shown = query; }
          pending = null;
        })
        .catch(function () { pending = null; });
      return pending;
    }

    function items() { return Array.prototype.slice.call(results.querySelectorAll("[data-result]")); }

    function move(step) {
      var list = items();
      if (!list.length) { return; }
      var index = list.findIndex(function (b) { return b.classList.contains("selected"); });
      if (index >= 0) { list[index].classList.remove("selected"); }
      index = Math.max(0, Math.min(list.length - 1, index + step));
      list[index].classList.add("selected");
      list[index].scrollIntoView({ block: "nearest" });
    }

    function openSelected() {
      var chosen = results.querySelector("[data-result].selected") || items()[0];
      if (chosen) { chosen.click(); } else { form.submit(); }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        if (input.value === shown && !pending) { openSelected(); }
        else { (input.value === asked && pending ? pending : refresh()).then(openSelected); }
      }
    });
  });
})();
