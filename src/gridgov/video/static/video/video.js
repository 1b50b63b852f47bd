// Maps of the camera and alarm lists (Leaflet). Confirmation of destructive forms
// (data-confirm) is web/app.js's, for every page: asking here too asked twice.
(function () {
  "use strict";
  function drawMap(holderId, dataId, colour) {
    var holder = document.getElementById(holderId);
    var data = document.getElementById(dataId);
    if (!holder || !data || !window.L) return;
    var points = JSON.parse(data.textContent);
    var config = JSON.parse(document.getElementById("map-config").textContent);
    var map = L.map(holder, { preferCanvas: true });
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      L.circleMarker([p[3], p[2]], { radius: 5, weight: 1, color: colour(p), fillOpacity: 0.8 })
        .bindTooltip(p[0] + " " + p[1])
        .addTo(map);
      bounds.push([p[3], p[2]]);
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
    else map.setView([36.68, 117.0], 12);
  }
  // Cameras: [code, name, lon, lat, online]; green online, red offline.
  drawMap("camera-map", "camera-points", function (p) { return p[4] ? "#1f7a4d" : "#b3261e"; });
  // Alarms: [time, label, lon, lat, open]; red while open, grey once dismissed or handled.
  drawMap("alarm-map", "alarm-points", function (p) { return p[4] ? "#b3261e" : "#6b7280"; });
})();
