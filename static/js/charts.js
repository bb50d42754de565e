/* Postino charts: draws every chart the server described, with Chart.js.
 *
 * templates/includes/bar_chart.html renders a <figure data-chart> holding a
 * <canvas> and a JSON data island (postino/charts.py: kind, unit, stacked,
 * labels, series). This file draws each one on page load, and again whenever
 * such a figure arrives in content swapped in live (the operations page's
 * [data-ops-live] fragment, the campaign page's activity fragment; see
 * postino.js). A MutationObserver watches for that, so postino.js needs to
 * know nothing about charts, and the Chart bound to a canvas that left the
 * page is destroyed (its resize observer and registry entry with it).
 *
 * Live redraws are not animated: a chart re-fetched every few seconds would
 * otherwise grow from zero each time. Colours come from CSS custom properties
 * (the "Charts" section of postino.css), so a page can recolour a chart.
 * Without Chart.js (or JavaScript) nothing is drawn and the figure's caption
 * and "Show figures" table still carry the numbers.
 */
(function () {
  "use strict";

  var Chart = window.Chart;
  if (typeof Chart !== "function") return;

  // figure[...] and not just [data-chart]: the bounce page marks its chart
  // wrappers with data-chart="hard" and so on.
  var FIGURES = "figure[data-chart]";
  var SERIES_COLOURS = 4;
  // The same separators as the server's intcomma and postino.js.
  var numberFormat = new Intl.NumberFormat("en-US");
  var reducedMotion =
    typeof window.matchMedia === "function" &&
    window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function cssVar(el, name, fallback) {
    var value = window.getComputedStyle(el).getPropertyValue(name).trim();
    return value || fallback;
  }

  function readData(figure) {
    var island = figure.querySelector('script[type="application/json"]');
    if (!island) return null;
    try {
      return JSON.parse(island.textContent);
    } catch (error) {
      return null;
    }
  }

  function config(figure, data, animate) {
    var ink = cssVar(figure, "--chart-ink", "#6b7487");
    var grid = cssVar(figure, "--chart-grid", "#e3e6ee");
    var font = { family: cssVar(figure, "--chart-font", "sans-serif"), size: 12 };
    var isLine = data.kind === "line";
    var several = data.series.length > 1;
    var unit = data.unit;

    var datasets = data.series.map(function (series, index) {
      var colour = cssVar(figure, "--chart-series-" + ((index % SERIES_COLOURS) + 1), ink);
      return {
        label: series.name,
        data: series.values,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: isLine ? 2 : 0,
        borderRadius: isLine ? 0 : 2,
        // A short series should not turn into a few slabs across the card.
        maxBarThickness: 36,
        pointRadius: 0,
        pointHoverRadius: 4,
        fill: false,
      };
    });

    return {
      type: isLine ? "line" : "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        // The container's height is fixed by the server (chart.height); the
        // width follows the card.
        maintainAspectRatio: false,
        animation: animate ? { duration: 400 } : false,
        locale: "en-US",
        // Thin bars are hard to hit: hovering anywhere over a label shows it.
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: {
            display: several,
            align: "end",
            labels: { color: ink, font: font, boxWidth: 12, boxHeight: 12 },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                var text = numberFormat.format(item.parsed.y) + " " + unit;
                return several ? item.dataset.label + ": " + text : text;
              },
            },
          },
        },
        scales: {
          x: {
            stacked: Boolean(data.stacked),
            grid: { display: false },
            border: { color: grid },
            ticks: { color: ink, font: font, autoSkip: true, autoSkipPadding: 16, maxRotation: 0 },
          },
          y: {
            stacked: Boolean(data.stacked),
            beginAtZero: true,
            grid: { color: grid },
            border: { display: false },
            ticks: {
              color: ink,
              font: font,
              precision: 0,
              maxTicksLimit: 5,
              callback: function (value) {
                return numberFormat.format(value);
              },
            },
          },
        },
      },
    };
  }

  function draw(figure, animate) {
    var canvas = figure.querySelector("canvas");
    var data = readData(figure);
    if (!canvas || !data) return;
    var previous = Chart.getChart(canvas);
    if (previous) previous.destroy();
    new Chart(canvas, config(figure, data, animate && !reducedMotion));
    figure.setAttribute("data-chart-drawn", "");
  }

  function figuresIn(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return [];
    var found = Array.prototype.slice.call(node.querySelectorAll(FIGURES));
    if (node.matches(FIGURES)) found.push(node);
    return found;
  }

  function release(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    var canvases = node.tagName === "CANVAS" ? [node] : node.querySelectorAll("canvas");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var chart = Chart.getChart(canvas);
      // A canvas moved elsewhere on the page is still connected: keep its chart.
      if (chart && !canvas.isConnected) chart.destroy();
    });
  }

  function watchSwaps() {
    if (typeof window.MutationObserver !== "function") return;
    new MutationObserver(function (mutations) {
      var arrived = [];
      mutations.forEach(function (mutation) {
        mutation.removedNodes.forEach(release);
        mutation.addedNodes.forEach(function (node) {
          figuresIn(node).forEach(function (figure) {
            if (arrived.indexOf(figure) === -1) arrived.push(figure);
          });
        });
      });
      arrived.forEach(function (figure) {
        // Added and removed again in the same batch: nothing to draw.
        if (figure.isConnected) draw(figure, false);
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  function init() {
    document.querySelectorAll(FIGURES).forEach(function (figure) {
      draw(figure, true);
    });
    watchSwaps();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
