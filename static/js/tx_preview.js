// The transactional template preview (templates/transactional/template_form.html
// and template_detail.html).
//
// Every preview pane gets its Desktop/Mobile and HTML/Text switches. On the
// template form, the pane also follows the author: the subject, HTML, text and
// sample JSON are posted to transactional:template_preview as they are typed
// (after a pause), and the answer replaces the rendering, or lists what is
// wrong with each problem's field and line (a JSON mistake too). The server
// renders the first preview itself, so the page shows one without JavaScript.
// The endpoint only renders: nothing is saved or sent.
(function () {
  "use strict";

  var PAUSE_MS = 350;
  var POSTED = ["subject", "html", "text", "sample_data"];
  var FIELD_NAMES = { subject: "Subject", html: "HTML", text: "Text", sample_data: "Sample data" };

  function switches(pane) {
    var frame = pane.querySelector("[data-role=preview-frame]");
    var iframe = pane.querySelector("[data-role=preview-html]");
    var textPart = pane.querySelector("[data-role=preview-text]");
    function choose(buttons, chosen, attribute) {
      buttons.forEach(function (button) {
        button.classList.toggle("is-on", button === chosen);
        button.setAttribute(attribute, String(button === chosen));
      });
    }
    var widths = Array.prototype.slice.call(pane.querySelectorAll("[data-width]"));
    widths.forEach(function (button) {
      button.addEventListener("click", function () {
        frame.dataset.width = button.dataset.width;
        choose(widths, button, "aria-pressed");
      });
    });
    var parts = Array.prototype.slice.call(pane.querySelectorAll("[data-part]"));
    parts.forEach(function (button) {
      button.addEventListener("click", function () {
        iframe.hidden = button.dataset.part === "text";
        textPart.hidden = !iframe.hidden;
        choose(parts, button, "aria-selected");
      });
    });
  }

  function live(editor) {
    var form = editor.closest("form");
    var pane = editor.querySelector("[data-role=live-preview]");
    if (!form || !pane || !window.fetch) return;
    var find = function (role) { return pane.querySelector("[data-role=" + role + "]"); };
    var status = find("preview-status");
    var problems = find("preview-errors");
    var frame = find("preview-frame");
    var waiting = null;
    var inFlight = null;
    var latest = 0;

    function describe(error) {
      var where = FIELD_NAMES[error.field] || error.field;
      return where + (error.line ? ", line " + error.line : "") + ": " + error.message;
    }

    function showProblems(errors) {
      problems.textContent = "";
      errors.forEach(function (error) {
        var item = document.createElement("li");
        item.textContent = describe(error);
        problems.appendChild(item);
      });
      problems.hidden = errors.length === 0;
    }

    function apply(answer, httpStatus) {
      if (httpStatus !== 200) {
        status.textContent = httpStatus === 403 ? "This account cannot preview changes." : "Preview not updated.";
        frame.classList.add("is-stale");
        return;
      }
      showProblems(answer.errors || []);
      if (!answer.ok) {
        // The last good rendering stays, dimmed, until the mistake is fixed.
        status.textContent = "Fix the template or the sample data to update the preview.";
        frame.classList.add("is-stale");
        return;
      }
      frame.classList.remove("is-stale");
      status.textContent = "With the sample data";
      find("preview-subject").textContent = answer.subject || "(no subject)";
      find("preview-html").srcdoc = answer.html;
      find("preview-text").textContent = answer.text;
    }

    function refresh() {
      var mine = ++latest;
      if (inFlight) inFlight.abort();
      inFlight = new AbortController();
      var body = new FormData();
      POSTED.forEach(function (name) {
        if (form.elements[name]) body.append(name, form.elements[name].value);
      });
      status.textContent = "Updating…";
      fetch(editor.dataset.previewUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value, Accept: "application/json" },
        signal: inFlight.signal,
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          // An older answer arriving late must not replace a newer one.
          if (mine === latest) apply(answer, response.status);
        });
      }).catch(function (error) {
        if (error.name !== "AbortError" && mine === latest) status.textContent = "The preview could not be loaded.";
      });
    }

    form.addEventListener("input", function (event) {
      if (POSTED.indexOf(event.target.name) === -1) return;
      clearTimeout(waiting);
      waiting = setTimeout(refresh, PAUSE_MS);
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-role=live-preview]").forEach(switches);
    var editor = document.querySelector("[data-role=tx-editor]");
    if (editor) live(editor);
  });
})();
