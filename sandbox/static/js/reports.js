/* Charts of the report pages and the workbench, drawn with the vendored Chart.js.
 *
 * Each chart's data is a <script type="application/json" class="chart-spec"> beside
 * its <canvas> (named by data-canvas); the table next to it is the chart's text
 * description, so nothing here has to speak to screen readers.
 */
(function () {
  "use strict";

  var PALETTE = [
    "#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545",
    "#198754", "#0dcaf0", "#ffc107", "#6c757d", "#d63384",
  ];

  function formatter(lang, spec) {
    var digits = spec.money ? 2 : spec.percent ? 1 : 0;
    var number = new Intl.NumberFormat(lang, {
      minimumFractionDigits: 0,
      maximumFractionDigits: digits,
    });
    return function (value) {
      if (value === null || value === undefined) return "—";
      return number.format(value) + (spec.percent ? "%" : "");
    };
  }

  function draw(node) {
    var canvas = document.getElementById(node.getAttribute("data-canvas"));
    if (!canvas || typeof window.Chart === "undefined") return;
    var spec;
    try {
      spec = JSON.parse(node.textContent);
    } catch (error) {
      return;
    }
    var lang = document.documentElement.lang || "en";
    var format = formatter(lang, spec);
    var round = spec.type === "doughnut" || spec.type === "pie";
    var mini = Boolean(spec.mini);
    var datasets = spec.datasets.map(function (set, i) {
      var colours = round
        ? spec.labels.map(function (_label, j) { return PALETTE[j % PALETTE.length]; })
        : PALETTE[i % PALETTE.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: colours,
        borderColor: round ? "#fff" : colours,
        borderWidth: round ? 1 : 0,
      };
    });
    var count = spec.labels.length;
    var options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: mini ? 2.4 : round ? 1.6 : spec.horizontal ? Math.max(0.9, 2.2 - count * 0.08) : 1.8,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: {
        legend: { display: !mini && (round || datasets.length > 1), position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var value = ctx.parsed && typeof ctx.parsed === "object"
                ? (spec.horizontal ? ctx.parsed.x : ctx.parsed.y)
                : ctx.parsed;
              return ctx.dataset.label + ": " + format(value);
            },
          },
        },
      },
    };
    if (!round) {
      var values = {
        beginAtZero: true,
        stacked: Boolean(spec.stacked),
        ticks: { callback: function (value) { return format(value); } },
        display: !mini,
      };
      var labels = { stacked: Boolean(spec.stacked), display: !mini, ticks: { autoSkip: true } };
      options.scales = spec.horizontal ? { x: values, y: labels } : { x: labels, y: values };
    }
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: options,
    });
  }

  function customDates() {
    // Typing a date means "custom dates": say so in the period list.
    var period = document.getElementById("period");
    ["from", "to"].forEach(function (name) {
      var input = document.getElementById(name);
      if (!period || !input) return;
      input.addEventListener("change", function () {
        if (input.value) period.value = "custom";
      });
    });
  }

  function start() {
    if (typeof window.Chart !== "undefined") {
      window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
      window.Chart.defaults.locale = document.documentElement.lang || "en";
    }
    document.querySelectorAll("script.chart-spec").forEach(draw);
    customDates();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
