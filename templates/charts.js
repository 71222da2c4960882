// Draws the report's charts. Each chart is a placeholder div (with its text alternative)
// followed by its figure as JSON. plotly.js (4.8 MB) is in the page as inert text
// (a text/plain script element, id ca-plotly-source: the installed file byte for byte) and is
// run only after the first frame is painted, so the text shows before the library is compiled.
// Where plotly.js is already loaded (the Quarto page), the charts are drawn at once.
(function () {
  function draw() {
    document.querySelectorAll("script.ca-chart-data").forEach(function (data) {
      var el = document.getElementById(data.getAttribute("data-chart"));
      if (!el || el.getAttribute("data-drawn")) return;
      var fig = JSON.parse(data.textContent);
      var config = JSON.parse(data.getAttribute("data-config") || "{}");
      el.setAttribute("data-drawn", "1");
      el.textContent = "";
      window.Plotly.newPlot(el, fig.data, fig.layout, config);
    });
  }
  function load() {
    var source = document.getElementById("ca-plotly-source");
    if (!window.Plotly && source) {
      var script = document.createElement("script");
      script.textContent = source.textContent;
      document.head.appendChild(script);
    }
    if (window.Plotly) draw();
    else document.querySelectorAll(".ca-chart").forEach(function (el) {
      el.setAttribute("data-error", "plotly.js did not load");
    });
  }
  if (window.Plotly) draw();
  else requestAnimationFrame(function () { setTimeout(load, 0); });
})();
