/* The case page's small map: the case point and its grid boundary. Without a configured
   tile URL nothing is fetched from outside; the boundary is drawn on a plain background. */
(function () {
  "use strict";
  var holder = document.getElementById("case-map");
  var configNode = document.getElementById("case-map-config");
  if (!holder || !configNode || !window.L) return;
  var config = JSON.parse(configNode.textContent);

  var layers = [];
  var bounds = null;
  if (config.boundary) {
    var grid = L.geoJSON(config.boundary, {
      style: { color: "#1d4f9c", weight: 2, fillColor: "#1d4f9c", fillOpacity: 0.08 }
    });
    if (config.gridName) grid.bindTooltip(config.gridName, { sticky: true });
    layers.push(grid);
    bounds = grid.getBounds();
  }
  if (config.point) {
    var latlng = L.latLng(config.point[1], config.point[0]);
    layers.push(L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: "#cc2f2a", fillOpacity: 1 }));
    bounds = bounds ? bounds.extend(latlng) : L.latLngBounds(latlng, latlng);
  }
  if (!bounds) return;

  var map = L.map(holder, { scrollWheelZoom: false, attributionControl: Boolean(config.tileUrl) });
  // Vector layers need a view before they are added.
  map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution || "" }).addTo(map);
  }
  layers.forEach(function (layer) { layer.addTo(map); });
})();
