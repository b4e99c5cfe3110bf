"""The page's inline stylesheet and chart script.

They are Python strings rather than .css/.js files so they travel inside the package
without package-data configuration, and the page needs nothing from the network. The
script reads the JSON in <script id="report-data">, draws each <svg class="chart"
data-chart="NAME"> as SVG paths with axes and a legend, and marks it data-drawn="N"
(the number of series drawn) so a headless browser can check that it really ran.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
:root { --fail: #b3261e; --fail-bg: #fdecea; --pass: #1b6e33; --pass-bg: #e7f4ea;
  --warn-bg: #fff6db; --line: #d8dce0; --muted: #5f6b76; }
* { box-sizing: border-box; }
pre.log { background: #f6f8fa; border: 1px solid var(--line); padding: 8px 10px;
  font-size: 12px; max-height: 420px; overflow: auto; white-space: pre-wrap; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0 auto; max-width: 1240px; padding: 16px 24px 48px; color: #1d2327; }
h1 { font-size: 20px; margin: 8px 0 12px; font-weight: 600; }
h2 { font-size: 17px; margin: 32px 0 8px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
.verdict { display: flex; align-items: center; gap: 24px; padding: 16px 24px;
  border-radius: 8px; border: 2px solid; }
.verdict.pass { background: var(--pass-bg); border-color: var(--pass); }
.verdict.fail, .verdict.unknown { background: var(--fail-bg); border-color: var(--fail); }
.verdict .word { font-size: 56px; font-weight: 800; letter-spacing: 2px; line-height: 1; }
.verdict.pass .word { color: var(--pass); }
.verdict.fail .word, .verdict.unknown .word { color: var(--fail); }
.verdict ul { margin: 0; padding-left: 18px; }
table.data { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 8px;
  text-align: left; vertical-align: top; }
table.data th { background: #f3f5f7; font-weight: 600; white-space: nowrap; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
table.data tr.fail td { background: var(--fail-bg); }
table.data tr.fail td:first-child { color: var(--fail); font-weight: 700; }
table.data tr.warn td { background: var(--warn-bg); }
table.data tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
table.data td.query { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  max-width: 720px; overflow-wrap: anywhere; }
ul.warnings li { background: var(--warn-bg); margin: 4px 0; padding: 4px 8px;
  list-style: none; border-left: 4px solid #d4a000; }
ul.warnings { padding: 0; }
.missing { color: var(--muted); font-style: italic; }
.facts { color: var(--muted); }
figure { margin: 12px 0 20px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; background: #fff;
  border: 1px solid var(--line); border-radius: 6px; }
svg.chart text { font-size: 12px; fill: #39434c; }
svg.chart .grid line { stroke: #eceff1; }
svg.chart .axis line, svg.chart .axis path { stroke: #8a949c; }
svg.chart .marker line { stroke: #8a949c; stroke-dasharray: 4 4; }
svg.chart .hover line { stroke: #39434c; stroke-width: 1; }
svg.chart .hover rect { fill: #ffffff; fill-opacity: 0.92; stroke: #8a949c; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
                "#7f3c8d", "#3b3b3b", "#a6761d", "#e7298a"];
  var W = 960, TOP = 14, LEFT = 66, RIGHT_WITH_AXIS = 66, RIGHT_PLAIN = 22, PLOT_H = 250;
  var X_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function text(parent, x, y, content, attrs) {
    var node = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    node.textContent = content;  // textContent: names from the data are never parsed as markup
    return node;
  }

  function niceTicks(max, count) {
    if (!(max > 0)) { max = 1; }
    var raw = max / count;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / magnitude;
    var step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
    var top = Math.ceil(max / step - 1e-9) * step;
    var values = [];
    for (var i = 0; i * step <= top + step / 2; i++) { values.push(i * step); }
    return { top: top, step: step, values: values };
  }

  function fmtValue(value, step) {
    if (Math.abs(value) >= 10000) { return Math.round(value / 1000) + "k"; }
    var decimals = step >= 1 ? 0 : Math.min(4, Math.ceil(-Math.log10(step) - 1e-9));
    return value.toFixed(decimals);
  }

  function fmtTime(seconds, step) {
    if (step < 60) { return Math.round(seconds) + " s"; }
    var minutes = Math.floor(seconds / 60), rest = Math.round(seconds - minutes * 60);
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function maxOf(lines, axis) {
    var max = 0;
    lines.forEach(function (s) {
      if ((s.axis || "left") !== axis) { return; }
      s.points.forEach(function (p) { if (p[1] !== null && p[1] > max) { max = p[1]; } });
    });
    return max;
  }

  function segments(points) {
    var out = [], current = [];
    points.forEach(function (p) {
      if (p[1] === null) { if (current.length) { out.push(current); } current = []; }
      else { current.push(p); }
    });
    if (current.length) { out.push(current); }
    return out;
  }

  function legendRows(lines) {
    var rows = [[]], width = 0, room = W - LEFT - 20;
    lines.forEach(function (s, i) {
      var need = 34 + 7 * s.label.length;
      if (width + need > room && rows[rows.length - 1].length) { rows.push([]); width = 0; }
      rows[rows.length - 1].push({ series: s, index: i, x: width });
      width += need + 16;
    });
    return rows;
  }

  function draw(svg, spec, xMax) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var lines = (spec.series || []).filter(function (s) { return s.points && s.points.length; });
    var hasRight = lines.some(function (s) { return s.axis === "right"; });
    var right = hasRight ? RIGHT_WITH_AXIS : RIGHT_PLAIN;
    var plotW = W - LEFT - right;
    var legend = legendRows(lines);
    var height = TOP + PLOT_H + 46 + legend.length * 20;
    svg.setAttribute("viewBox", "0 0 " + W + " " + height);
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    if (!lines.length) {
      text(svg, W / 2, TOP + PLOT_H / 2, "no data", { "text-anchor": "middle" });
      svg.setAttribute("data-drawn", "0");
      return;
    }
    var xTop = Math.max(xMax || 0, 1);
    var xStep = X_STEPS.filter(function (s) { return xTop / s <= 10; })[0] || 28800;
    var yLeft = spec.y_max ? niceTicks(spec.y_max, 5) : niceTicks(maxOf(lines, "left") * 1.05, 5);
    var yRight = hasRight ? niceTicks(maxOf(lines, "right") * 1.05, 5) : null;
    function sx(x) { return LEFT + (x / xTop) * plotW; }
    function sy(y, scale) { return TOP + PLOT_H - (y / scale.top) * PLOT_H; }

    var grid = el("g", { "class": "grid" }, svg);
    var axis = el("g", { "class": "axis" }, svg);
    yLeft.values.forEach(function (v) {
      el("line", { x1: LEFT, x2: LEFT + plotW, y1: sy(v, yLeft), y2: sy(v, yLeft) }, grid);
      text(axis, LEFT - 6, sy(v, yLeft) + 4, fmtValue(v, yLeft.step), { "text-anchor": "end" });
    });
    if (yRight) {
      yRight.values.forEach(function (v) {
        text(axis, LEFT + plotW + 6, sy(v, yRight) + 4, fmtValue(v, yRight.step), {});
      });
      el("line", { x1: LEFT + plotW, x2: LEFT + plotW, y1: TOP, y2: TOP + PLOT_H }, axis);
    }
    for (var x = 0; x <= xTop + 1e-9; x += xStep) {
      el("line", { x1: sx(x), x2: sx(x), y1: TOP + PLOT_H, y2: TOP + PLOT_H + 5 }, axis);
      text(axis, sx(x), TOP + PLOT_H + 18, fmtTime(x, xStep), { "text-anchor": "middle" });
    }
    el("line", { x1: LEFT, x2: LEFT + plotW, y1: TOP + PLOT_H, y2: TOP + PLOT_H }, axis);
    el("line", { x1: LEFT, x2: LEFT, y1: TOP, y2: TOP + PLOT_H }, axis);
    var mid = TOP + PLOT_H / 2;
    text(axis, 14, mid, spec.y_label || "", {
      "text-anchor": "middle", transform: "rotate(-90 14 " + mid + ")", "class": "y-label" });
    if (yRight) {
      text(axis, W - 10, mid, spec.y_right_label || "", {
        "text-anchor": "middle", transform: "rotate(90 " + (W - 10) + " " + mid + ")",
        "class": "y-label" });
    }
    text(axis, LEFT + plotW / 2, TOP + PLOT_H + 36, spec.x_label || "",
         { "text-anchor": "middle", "class": "x-label" });

    (spec.markers || []).forEach(function (m) {
      if (m.x < 0 || m.x > xTop) { return; }
      var group = el("g", { "class": "marker" }, svg);
      el("line", { x1: sx(m.x), x2: sx(m.x), y1: TOP, y2: TOP + PLOT_H }, group);
      text(group, sx(m.x) + 4, TOP + 12, m.label, {});
    });

    var drawn = 0;
    lines.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length];
      var scale = s.axis === "right" ? yRight : yLeft;
      var group = el("g", { "class": "series", "data-label": s.label }, svg);
      var d = "", dots = 0;
      segments(s.points).forEach(function (seg) {
        if (seg.length === 1) {  // a lone sample between gaps: a dot, or it would not show
          el("circle", { cx: sx(seg[0][0]), cy: sy(seg[0][1], scale), r: 2.5, fill: color }, group);
          dots++;
          return;
        }
        d += seg.map(function (p, k) {
          return (k ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1], scale).toFixed(1);
        }).join(" ") + " ";
      });
      if (d) {
        var path = el("path", { d: d.trim(), fill: "none", stroke: color, "stroke-width": 1.8,
                                "stroke-linejoin": "round" }, group);
        if (s.dash) { path.setAttribute("stroke-dasharray", "6 4"); }
        el("title", {}, path).textContent = s.label;
      }
      if (d || dots) { drawn++; }
    });

    var legendTop = TOP + PLOT_H + 58;
    var key = el("g", { "class": "legend" }, svg);
    legend.forEach(function (row, r) {
      row.forEach(function (item) {
        var y = legendTop + r * 20, x0 = LEFT + item.x;
        var sample = el("line", { x1: x0, x2: x0 + 26, y1: y - 4, y2: y - 4, "stroke-width": 3,
                                  stroke: COLORS[item.index % COLORS.length] }, key);
        if (item.series.dash) { sample.setAttribute("stroke-dasharray", "6 4"); }
        var suffix = item.series.axis === "right" ? " (right axis)" : "";
        text(key, x0 + 32, y, item.series.label + suffix, {});
      });
    });
    hover(svg, lines, xTop, plotW);
    svg.setAttribute("data-drawn", String(drawn));
  }

  function hover(svg, lines, xTop, plotW) {
    var layer = el("g", { "class": "hover", visibility: "hidden" }, svg);
    var rule = el("line", { y1: TOP, y2: TOP + PLOT_H }, layer);
    var box = el("rect", { rx: 4 }, layer);
    var label = el("text", {}, layer);
    svg.addEventListener("mousemove", function (event) {
      var rect = svg.getBoundingClientRect();
      var x = ((event.clientX - rect.left) / rect.width) * W;
      if (x < LEFT || x > LEFT + plotW) { layer.setAttribute("visibility", "hidden"); return; }
      var at = ((x - LEFT) / plotW) * xTop;
      while (label.firstChild) { label.removeChild(label.firstChild); }
      var rows = [Math.round(at) + " s"];
      lines.forEach(function (s) {
        var best = null;
        s.points.forEach(function (p) {
          if (best === null || Math.abs(p[0] - at) < Math.abs(best[0] - at)) { best = p; }
        });
        if (best && best[1] !== null && Math.abs(best[0] - at) <= xTop / 50) {
          rows.push(s.label + ": " + (Math.round(best[1] * 100) / 100));
        }
      });
      var boxW = 12 + 7 * Math.max.apply(null, rows.map(function (r) { return r.length; }));
      var left = x + boxW + 8 > W ? x - boxW - 8 : x + 8;
      rows.forEach(function (line, k) {
        var span = el("tspan", { x: left + 6, y: TOP + 16 + k * 15 }, label);
        span.textContent = line;
      });
      rule.setAttribute("x1", x); rule.setAttribute("x2", x);
      box.setAttribute("x", left); box.setAttribute("y", TOP + 2);
      box.setAttribute("width", boxW); box.setAttribute("height", rows.length * 15 + 8);
      layer.setAttribute("visibility", "visible");
    });
    svg.addEventListener("mouseleave", function () { layer.setAttribute("visibility", "hidden"); });
  }

  var source = document.getElementById("report-data");
  var data = source ? JSON.parse(source.textContent) : { charts: {} };
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), function (svg) {
    draw(svg, data.charts[svg.getAttribute("data-chart")] || { series: [] }, data.x_max);
  });
})();
"""


def script_hash() -> str:
    """The script's CSP hash: the page may run this script and no other."""
    digest = hashlib.sha256(SCRIPT.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
