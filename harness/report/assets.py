"""The page's inline stylesheet and the script that hands each chart to plotly.js.

They are Python strings rather than .css/.js files so they travel inside the package
without package-data configuration, and the page needs nothing from the network. The
script reads the figures in <script id="report-data">, draws each <div class="chart"
data-chart="NAME"> with Plotly.newPlot, and marks it data-drawn="N" (the number of traces)
once plotly.js has drawn it, so a headless browser can check that it really ran.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
:root { --fail: #b3261e; --fail-bg: #fdecea; --pass: #1b6e33; --pass-bg: #e7f4ea;
  --invalid: #8a5300; --invalid-line: #d98e04; --invalid-bg: #fff3d6;
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
.verdict.invalid { background: var(--invalid-bg); border-color: var(--invalid-line); }
.verdict.invalid .word { color: var(--invalid); }
.verdict ul { margin: 0; padding-left: 18px; }
.verdict .window { margin: 6px 0 0; }
ol.reasons { margin: 10px 0 0; padding-left: 22px; }
ol.reasons > li { margin: 8px 0; padding: 6px 10px; border-left: 4px solid var(--line); }
ol.reasons.invalid > li { background: var(--invalid-bg); border-left-color: var(--invalid-line); }
ol.reasons.causes > li { background: var(--fail-bg); border-left-color: var(--fail); }
ol.reasons .explains { color: var(--muted); }
ol.reasons ul.evidence { margin: 4px 0; padding-left: 18px; font-size: 13px; }
ol.reasons .hint { margin: 4px 0 0; }
ol.reasons .hint::before { content: "What to do: "; font-weight: 600; }
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
div.chart { width: 100%; min-height: 280px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  var data = source ? JSON.parse(source.textContent) : { charts: {} };
  Array.prototype.forEach.call(document.querySelectorAll("div.chart"), function (div) {
    var figure = data.charts[div.getAttribute("data-chart")];
    if (!figure || typeof Plotly === "undefined") {
      div.textContent = figure ? "The chart library did not load." : "No data.";
      div.setAttribute("data-drawn", "0");
      return;
    }
    Plotly.newPlot(div, figure.data, figure.layout, data.config).then(function () {
      div.setAttribute("data-drawn", String(figure.data.length));
    });
  });
})();
"""


def script_hash(script: str = SCRIPT) -> str:
    """A script's CSP hash: the page runs the scripts it lists by hash, and no other."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
