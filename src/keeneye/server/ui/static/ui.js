// keeneye UI: draws the plotly figures whose JSON specs the server embedded in the page.
// Each chart container names its spec block in data-chart; a drawn chart gets
// data-rendered="true", and <body> gets data-charts-ready="true" when all are drawn.
"use strict";
(function () {
  function drawAll() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
    if (typeof window.Plotly === "undefined") {
      document.body.setAttribute("data-charts-ready", "unavailable");
      return;
    }
    var pending = boxes.map(function (box) {
      var block = document.getElementById(box.getAttribute("data-chart"));
      var spec = JSON.parse(block.textContent);
      var config = Object.assign(
        { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] },
        spec.config || {}
      );
      return window.Plotly.newPlot(box, spec.data, spec.layout, config).then(function () {
        box.setAttribute("data-rendered", "true");
      });
    });
    Promise.all(pending).then(function () {
      document.body.setAttribute("data-charts-ready", "true");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
