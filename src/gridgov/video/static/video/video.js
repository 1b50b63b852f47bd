// Camera map (Leaflet) and confirmation of destructive forms.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  var holder = document.getElementById("camera-map");
  var data = document.getElementById("camera-points");
  if (!holder || !data || !window.L) return;
  var points = JSON.parse(data.textContent);
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(holder, { preferCanvas: true });
  if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var online = p[4];
    L.circleMarker([p[3], p[2]], { radius: 5, weight: 1, color: online ? "#1f7a4d" : "#b3261e", fillOpacity: 0.8 })
      .bindTooltip(p[0] + " " + p[1])
      .addTo(map);
    bounds.push([p[3], p[2]]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([36.68, 117.0], 12);
})();
