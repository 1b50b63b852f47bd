/* Hot-topics page: hot H3 cells on a plain Leaflet map (grid boundaries beneath) and the
   monthly trend as an ECharts line chart. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("hot-config").textContent);

  function drawMap() {
    var map = L.map("hot-map", { zoomSnap: 0.5, maxZoom: 19 }).setView([36.67, 117.0], 13);
    var peak = Math.max.apply(null, config.cells.features.map(function (f) { return f.properties.current; }).concat([1]));
    var cells = L.geoJSON(config.cells, {
      style: function (feature) {
        var ratio = feature.properties.current / peak;
        return {
          color: feature.properties["new"] ? "#b71c1c" : "#8d2b0b",
          weight: feature.properties["new"] ? 3 : 1,
          fillColor: "#e53935",
          fillOpacity: 0.2 + 0.6 * ratio,
        };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var text = (p.grid ? p.grid + " · " : "") + p.current + " " + config.labels.cases;
        if (p["new"]) { text += " · " + config.labels["new"]; }
        layer.bindTooltip(text, { sticky: true });
      },
    }).addTo(map);
    var bounds = cells.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16, animate: false }); }
    fetch(config.boundariesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, {
          style: function (f) { return { color: "#3367d6", weight: f.properties.level === "grid" ? 1 : 2, fill: false }; },
          interactive: false,
        }).addTo(map).bringToBack();
      });
  }

  function drawTrend() {
    var chart = echarts.init(document.getElementById("hot-trend"));
    var series = [{ name: config.labels.total, type: "line", data: config.trend.total, lineStyle: { width: 3 } }];
    config.trend.series.forEach(function (item) { series.push({ name: item.name, type: "line", data: item.data }); });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: config.trend.months },
      yAxis: { type: "value", minInterval: 1 },
      series: series,
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  drawMap();
  drawTrend();
})();
