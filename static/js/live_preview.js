// Live preview beside the campaign editor (templates/campaigns/campaign_form.html).
//
// Posts the form's current fields to campaigns:live_preview as the author types
// (debounced), and shows the answer: the inbox line (subject and preheader), the
// HTML part in a sandboxed iframe (no scripts) at desktop or mobile width, the
// text part, template errors with their lines, and the variables with their
// values for the chosen subscriber. The endpoint only renders: nothing is saved
// or sent. Errors are also handed to static/js/editor.js as a
// "postino:template-errors" event, which marks their lines in the code editor.
(function () {
  "use strict";

  var DEBOUNCE_MS = 400;
  var FIELDS = ["subject", "preheader", "editor", "source", "html", "text", "template"];

  function setup(root) {
    var form = root.closest("form");
    var pane = root.querySelector("[data-role=live-preview]");
    if (!form || !pane || !window.fetch) return null;
    var $ = function (role) { return pane.querySelector("[data-role=" + role + "]"); };
    var iframe = $("preview-html");
    var textPart = $("preview-text");
    var frame = $("preview-frame");
    var errorsBox = $("preview-errors");
    var warningsBox = $("preview-warnings");
    var statusLine = $("preview-status");
    var emailInput = $("preview-email");
    var variablesRows = root.querySelector("[data-role=variables-rows]");
    var variablesFor = root.querySelector("[data-role=variables-for]");
    var timer = null;
    var controller = null;
    var sequence = 0;

    pane.hidden = false;
    root.querySelector(".editor-split").classList.add("has-preview");

    function payload() {
      var data = new FormData();
      FIELDS.forEach(function (name) {
        var field = form.elements[name];
        if (field) data.append(name, field.value);
      });
      Array.prototype.forEach.call(form.querySelectorAll("input[name=lists]:checked"), function (box) {
        data.append("lists", box.value);
      });
      if (root.dataset.campaign) data.append("campaign", root.dataset.campaign);
      var who = emailInput.value.trim();
      if (who) data.append("email", who);
      return data;
    }

    // One request for the editor's own use too (Markdown to HTML when switching modes).
    function request() {
      if (controller) controller.abort();
      controller = new AbortController();
      var token = form.elements.csrfmiddlewaretoken.value;
      return fetch(root.dataset.previewUrl, {
        method: "POST",
        body: payload(),
        headers: { "X-CSRFToken": token, Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      }).then(function (response) {
        return response.json().then(function (body) {
          body.status = response.status;
          return body;
        });
      });
    }

    function list(box, items) {
      box.textContent = "";
      items.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        box.appendChild(li);
      });
      box.hidden = items.length === 0;
    }

    function describe(error) {
      var where = error.field === "source" ? "Markdown" : error.field === "html" ? "HTML" : error.field;
      return where + (error.line ? ", line " + error.line : "") + ": " + error.message;
    }

    function showVariables(answer) {
      if (!variablesRows || !answer.variables) return;
      variablesRows.textContent = "";
      answer.variables.forEach(function (variable) {
        var row = document.createElement("tr");
        var name = document.createElement("td");
        var code = document.createElement("code");
        code.textContent = variable.name;
        code.title = "Insert {{ " + variable.name + " }}";
        code.dataset.insert = "{{ " + variable.name + " }}";
        name.appendChild(code);
        var value = document.createElement("td");
        value.textContent = variable.value;
        row.appendChild(name);
        row.appendChild(value);
        variablesRows.appendChild(row);
      });
      if (variablesFor) {
        variablesFor.textContent = answer.subscriber
          ? "Values for " + answer.subscriber.email + ". Click a name to insert it."
          : "Values for the sample subscriber. Click a name to insert it.";
      }
    }

    function show(answer) {
      var errors = answer.errors || [];
      list(errorsBox, errors.map(describe));
      list(warningsBox, answer.warnings || []);
      root.dispatchEvent(new CustomEvent("postino:template-errors", { detail: { errors: errors } }));
      if (answer.status !== 200) {
        statusLine.textContent = "Preview not updated.";
        frame.classList.add("is-stale");
        return;
      }
      showVariables(answer);
      if (!answer.ok) {
        // Keep the last good rendering, dimmed, while the template is broken.
        statusLine.textContent = "Fix the template to update the preview.";
        frame.classList.add("is-stale");
        return;
      }
      frame.classList.remove("is-stale");
      statusLine.textContent = answer.subscriber
        ? "As " + answer.subscriber.email
        : "As the sample subscriber";
      $("preview-subject").textContent = answer.subject || "(no subject)";
      $("preview-preheader").textContent = answer.preheader || "";
      iframe.srcdoc = answer.html;
      textPart.textContent = answer.text;
    }

    function refresh() {
      var mine = ++sequence;
      statusLine.textContent = "Updating…";
      request().then(function (answer) {
        if (mine === sequence) show(answer);
      }).catch(function (error) {
        if (error.name !== "AbortError" && mine === sequence) {
          statusLine.textContent = "The preview could not be loaded.";
        }
      });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    }

    form.addEventListener("input", function (event) {
      if (!pane.contains(event.target)) schedule();
    });
    form.addEventListener("change", function (event) {
      if (!pane.contains(event.target)) schedule();
    });
    root.addEventListener("postino:body-changed", schedule);
    emailInput.addEventListener("change", refresh);
    emailInput.addEventListener("keydown", function (event) {
      // Enter picks the subscriber; it must not submit the campaign form.
      if (event.key === "Enter") { event.preventDefault(); refresh(); }
    });

    pane.querySelectorAll("[data-width]").forEach(function (button) {
      button.addEventListener("click", function () {
        frame.dataset.width = button.dataset.width;
        pane.querySelectorAll("[data-width]").forEach(function (other) {
          other.classList.toggle("is-on", other === button);
          other.setAttribute("aria-pressed", String(other === button));
        });
      });
    });
    pane.querySelectorAll("[data-part]").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.dataset.part === "text";
        iframe.hidden = text;
        textPart.hidden = !text;
        pane.querySelectorAll("[data-part]").forEach(function (other) {
          other.classList.toggle("is-on", other === button);
          other.setAttribute("aria-selected", String(other === button));
        });
      });
    });

    refresh();
    return { request: request, refresh: refresh };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-role=campaign-editor]");
    if (root) window.PostinoLivePreview = setup(root);
  });
})();
