/* Map page: grid boundaries, clustered open cases coloured by clock state, H3 heat layer.
   Works without any tile server: boundaries are drawn on a plain background. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var text = JSON.parse(document.getElementById("map-text").textContent);
  var statusLine = document.getElementById("map-status");
  var STATE_COLOURS = { normal: "#2f8a57", warning: "#c98500", overdue: "#cc2f2a", none: "#7b8794" };

  var map = L.map("case-map", { preferCanvas: true, zoomSnap: 0.5, maxZoom: 19 }).setView([36.67, 117.0], 12);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution || "" }).addTo(map);
  }

  var boundaryLayer = L.geoJSON(null, {
    style: function (feature) {
      var grid = feature.properties.level === "grid";
      return { color: grid ? "#3367d6" : "#1a237e", weight: grid ? 1 : 2.5, fill: grid, fillOpacity: 0.04 };
    },
    onEachFeature: function (feature, layer) {
      if (feature.properties.level === "grid") {
        layer.bindTooltip(feature.properties.name, { sticky: true });
      }
    },
  }).addTo(map);

  var clusterLayer = L.markerClusterGroup({
    chunkedLoading: true,
    iconCreateFunction: clusterIcon,
  }).addTo(map);

  var heatLayer = L.geoJSON(null, { style: heatStyle, onEachFeature: heatTooltip });

  var overlays = {};
  overlays[text.boundaries] = boundaryLayer;
  overlays[text.cases] = clusterLayer;
  overlays[text.heat] = heatLayer;
  L.control.layers(null, overlays, { collapsed: window.innerWidth < 600 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    });
  }

  // A cluster takes the colour of its most urgent case.
  function clusterIcon(cluster) {
    var rank = { none: 0, normal: 1, warning: 2, overdue: 3 };
    var worst = "none";
    cluster.getAllChildMarkers().forEach(function (marker) {
      if (rank[marker.options.state] > rank[worst]) { worst = marker.options.state; }
    });
    var count = cluster.getChildCount();
    return L.divIcon({
      html: "<span>" + count + "</span>",
      className: "case-cluster case-cluster--" + worst,
      iconSize: L.point(36, 36),
    });
  }

  function caseMarker(item) {
    var marker = L.circleMarker([item.lat, item.lon], {
      radius: 7, weight: 2, color: "#fff", fillColor: STATE_COLOURS[item.state] || STATE_COLOURS.none, fillOpacity: 0.95,
      state: item.state,
    });
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.number;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(item.status + " · " + (text.states[item.state] || "")));
    marker.bindPopup(box);
    return marker;
  }

  function heatStyle(feature) {
    var ratio = heatLayer.peak ? feature.properties.count / heatLayer.peak : 0;
    return { color: "#b71c1c", weight: 0.5, fillColor: "#e53935", fillOpacity: 0.15 + 0.65 * ratio };
  }

  function heatTooltip(feature, layer) {
    layer.bindTooltip(text.heatCount.replace("%(count)s", feature.properties.count));
  }

  function loadBoundaries() {
    return getJSON(config.boundariesUrl).then(function (data) {
      boundaryLayer.addData(data);
      var bounds = boundaryLayer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20] }); }
    });
  }

  function loadCases() {
    return getJSON(config.casesUrl).then(function (data) {
      clusterLayer.clearLayers();
      clusterLayer.addLayers(data.cases.map(caseMarker));
      var message = text.caseCount.replace("%(count)s", data.cases.length);
      if (data.truncated) { message += " " + text.truncated.replace("%(cap)s", data.cap); }
      statusLine.textContent = message;
    });
  }

  function loadHeat() {
    var days = document.getElementById("heat-days").value;
    return getJSON(config.heatUrl + "?days=" + encodeURIComponent(days)).then(function (data) {
      heatLayer.clearLayers();
      heatLayer.peak = data.max;
      heatLayer.addData(data);
    });
  }

  document.getElementById("heat-days").addEventListener("change", function () {
    loadHeat().catch(showError);
    if (!map.hasLayer(heatLayer)) { heatLayer.addTo(map); }
  });

  function showError() { statusLine.textContent = text.loadFailed; }

  loadBoundaries().then(loadCases).then(loadHeat).catch(showError);
})();
