/* Postino marketer UI: small progressive enhancements, no dependencies.
 *
 * 1. Live campaign progress: a page with [data-campaign-live] polls its
 *    stats URL every 2 seconds while the campaign can still change
 *    (scheduled, running, paused) and updates counts, the progress bar, the
 *    status badge and which controls are shown, without reloading.
 *    Its [data-activity-url] fragment (rate chart, recent failures) is
 *    re-fetched every 10 seconds on the same condition.
 * 2. Confirmation for destructive forms: <form data-confirm="…">.
 * 3. Live operations page: a [data-ops-live] root re-fetches its
 *    [data-live-url] fragment every [data-poll-ms] (3 seconds) and swaps it
 *    in, while the tab is visible.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var ACTIVITY_MS = 10000;
  var LIVE = ["scheduled", "running", "paused"];
  var numberFormat = new Intl.NumberFormat("en-US");

  function isLive(status) {
    return LIVE.indexOf(status) !== -1;
  }

  function setText(root, selector, value) {
    root.querySelectorAll(selector).forEach(function (el) {
      if (el.textContent !== value) el.textContent = value;
    });
  }

  function showControls(root, status) {
    root.querySelectorAll("[data-show-when]").forEach(function (el) {
      var states = el.getAttribute("data-show-when").split(/\s+/);
      el.hidden = states.indexOf(status) === -1;
    });
  }

  function applyStats(root, data) {
    ["total", "sent", "failed", "pending"].forEach(function (key) {
      setText(root, '[data-stat="' + key + '"]', numberFormat.format(data[key]));
    });
    setText(root, '[data-stat="percent"]', String(data.percent));
    var bar = root.querySelector('[data-role="progress-bar"]');
    if (bar) bar.style.width = data.percent + "%";
    var progress = root.querySelector('[data-role="progress"]');
    if (progress) progress.setAttribute("aria-valuenow", String(data.percent));
    setText(root, '[data-role="status-reason"]', data.status_reason || "");

    if (data.status !== root.getAttribute("data-status")) {
      root.setAttribute("data-status", data.status);
      var badge = root.querySelector('[data-role="status"]');
      if (badge) {
        badge.className = "badge badge-" + data.status;
        badge.textContent = data.status_label;
      }
      showControls(root, data.status);
    }
  }

  function startPolling(root) {
    var url = root.getAttribute("data-stats-url");
    if (!url || typeof window.fetch !== "function") return;

    function schedule() {
      if (isLive(root.getAttribute("data-status"))) {
        window.setTimeout(poll, POLL_MS);
      }
    }

    function poll() {
      if (document.hidden) {
        // No point polling a background tab; check again shortly.
        schedule();
        return;
      }
      window
        .fetch(url, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "application/json" },
        })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          applyStats(root, data);
        })
        .catch(function () {
          // A failed poll (network blip, expired session) is retried next tick.
        })
        .then(schedule);
    }

    schedule();
    refreshActivity(root);
  }

  function refreshActivity(root) {
    var box = root.querySelector("[data-activity-url]");
    if (!box) return;
    var url = box.getAttribute("data-activity-url");

    function tick() {
      if (!isLive(root.getAttribute("data-status"))) return;
      if (!document.hidden) {
        window
          .fetch(url, { credentials: "same-origin", cache: "no-store" })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            return response.text();
          })
          .then(function (html) {
            box.innerHTML = html;
          })
          .catch(function () {
            // Retried on the next tick.
          });
      }
      window.setTimeout(tick, ACTIVITY_MS);
    }

    window.setTimeout(tick, ACTIVITY_MS);
  }

  function confirmForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      var message = form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) event.preventDefault();
    });
  }

  function refreshOperations(root) {
    var url = root.getAttribute("data-live-url");
    var every = parseInt(root.getAttribute("data-poll-ms"), 10) || 3000;
    if (!url || typeof window.fetch !== "function") return;

    function tick() {
      if (document.hidden) {
        window.setTimeout(tick, every);
        return;
      }
      window
        .fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          root.innerHTML = html;
          root.removeAttribute("data-stale");
        })
        .catch(function () {
          // Keep the last view, marked stale; retried on the next tick.
          root.setAttribute("data-stale", "");
        })
        .then(function () {
          window.setTimeout(tick, every);
        });
    }

    window.setTimeout(tick, every);
  }

  function init() {
    document.querySelectorAll("[data-campaign-live]").forEach(startPolling);
    document.querySelectorAll("[data-ops-live]").forEach(refreshOperations);
    confirmForms();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
