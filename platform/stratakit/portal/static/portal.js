// The portal's charts: traffic and latency per served version, from /api/traffic (uPlot).
// The page works without this file: it loads htmx (each section refreshes in place) and
// uPlot (the Trends section's plots) once the page has painted.
(function () {
  "use strict";
  var charts = {};
  var palette = ["#0550ae", "#a40e26", "#116329", "#7d4e00", "#6639ba", "#1b7c83"];

  function columns(series, field) {
    // One shared time axis: the union of every series' sample times.
    var names = Object.keys(series);
    var times = [];
    names.forEach(function (n) { times = times.concat(series[n].t); });
    times = Array.from(new Set(times)).sort(function (a, b) { return a - b; });
    var data = [times];
    var labels = [];
    names.forEach(function (n) {
      (Array.isArray(field) ? field : [field]).forEach(function (f) {
        var at = {};
        series[n].t.forEach(function (t, i) { at[t] = series[n][f][i]; });
        data.push(times.map(function (t) { return t in at ? at[t] : null; }));
        labels.push(Array.isArray(field) ? n + " " + f.replace("_ms", "") : n);
      });
    });
    return { data: data, labels: labels };
  }

  function draw(id, title, unit, cols) {
    var el = document.getElementById(id);
    if (!el || typeof uPlot === "undefined") { return; }
    var width = Math.max(320, el.clientWidth || 800);
    var times = cols.data[0];
    var first = times[0];
    var last = times[times.length - 1];
    if (charts[id]) { charts[id].destroy(); }
    charts[id] = new uPlot({
      title: title, width: width, height: 220,
      series: [{}].concat(cols.labels.map(function (label, i) {
        return { label: label, stroke: palette[i % palette.length], width: 2, spanGaps: true,
                 value: function (u, v) { return v == null ? "-" : v.toFixed(2) + " " + unit; } };
      })),
      // At least the last ten minutes on the time axis (a first sample alone would
      // otherwise stretch it over years), and from zero up on the value axis.
      scales: {
        x: { time: true, auto: false, range: [Math.min(first, last - 600), last + 5] },
        y: { range: function (u, min, max) { return [0, Math.max(max * 1.1, 1)]; } },
      },
      axes: [{}, { label: unit }],
    }, cols.data, el);
  }

  function refresh() {
    fetch("/api/traffic", { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var series = body.series || {};
        var empty = Object.keys(series).length === 0;
        var note = document.getElementById("chart-empty");
        if (note) { note.hidden = !empty; }
        if (empty) { return; }
        draw("chart-traffic", "Requests per second", "req/s", columns(series, "rps"));
        draw("chart-latency", "Latency", "ms", columns(series, ["p50_ms", "p99_ms"]));
      })
      .catch(function () { /* the portal restarting: the next refresh tries again */ });
  }

  // The libraries load after the first paint: the tables come first, refresh and charts after.
  var self = document.currentScript;
  function load(src, done) {
    var script = document.createElement("script");
    script.src = src;
    script.onload = done;
    document.head.appendChild(script);
  }
  window.addEventListener("load", function () {
    load(self.dataset.htmx, function () {});
    load(self.dataset.uplot, function () {
      refresh();
      setInterval(refresh, 10000);
    });
  });
})();
