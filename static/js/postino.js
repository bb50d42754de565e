/* Postino marketer UI: small progressive enhancements, no dependencies.
 *
 * 1. Live campaign page: a page with [data-campaign-live] polls its stats
 *    URL every 2 seconds while the campaign can still change (scheduled,
 *    running, paused). One answer, read at one moment on the server, carries
 *    every live part: status, reason, counts, progress, started/finished
 *    times, which controls show, and the activity fragment (rate chart,
 *    recent failures, bounce figures). All are applied in one go, so no
 *    figure on the page lags another; the poll that sees the campaign
 *    finished applies its last figures and stops.
 * 2. Confirmation for destructive forms: <form data-confirm="…">.
 * 3. Live operations page: a [data-ops-live] root re-fetches its
 *    [data-live-url] fragment every [data-poll-ms] (3 seconds) and swaps it
 *    in, while the tab is visible, until the fragment says [data-live-done]
 *    (an import's progress page uses it too).
 * 4. A schedule's time-zone select ([data-browser-zone]) starts in the
 *    browser's zone; 5. [data-copy-url] buttons copy an address.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
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
    ["started_at", "finished_at"].forEach(function (key) {
      var value = data[key] || "";
      root.querySelectorAll('[data-time="' + key + '"]').forEach(function (el) {
        if (el.tagName === "DD" && el.textContent !== value) el.textContent = value;
        el.hidden = value === "";
      });
    });
    var activity = root.querySelector('[data-role="activity"]');
    // Compared with the last answer, not the DOM: unchanged HTML is not re-parsed.
    if (activity && typeof data.activity_html === "string" && activity.postinoHtml !== data.activity_html) {
      activity.innerHTML = data.activity_html;
      activity.postinoHtml = data.activity_html;
    }

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
          // A fragment marked [data-live-done] is final (a finished import).
          if (!root.querySelector("[data-live-done]")) window.setTimeout(tick, every);
        });
    }

    window.setTimeout(tick, every);
  }

  // A fresh schedule form starts in the browser's own zone (when we know it);
  // the server never guesses one: it reads the time in the zone posted.
  function preselectBrowserZone() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
      var option = zone && select.querySelector('option[value="' + zone + '"]');
      if (option) select.value = zone;
    });
  }

  // <button data-copy-url="…">: copies the address, says so for a moment.
  function copyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-copy-url]");
      if (!button || !navigator.clipboard) return;
      var label = button.textContent;
      navigator.clipboard.writeText(button.getAttribute("data-copy-url")).then(function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-campaign-live]").forEach(startPolling);
    document.querySelectorAll("[data-ops-live]").forEach(refreshOperations);
    confirmForms();
    preselectBrowserZone();
    copyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
