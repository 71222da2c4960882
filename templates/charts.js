// Draws the report's charts. Each chart is a placeholder div (with its text alternative)
// followed by its figure as JSON; this runs after plotly.js, which is placed last in the
// page so that the text paints before the 4.8 MB library is parsed.
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
  if (window.Plotly) draw();
  else document.querySelectorAll(".ca-chart").forEach(function (el) {
    el.setAttribute("data-error", "plotly.js did not load");
  });
})();
