/* Intake form: map click sets the point, category search picks a 小类, the location check
   (htmx) shows grid and likely duplicates, and the submit button works once. */
(function () {
  "use strict";
  var form = document.querySelector("[data-intake-form]");
  if (!form) { return; }
  var config = JSON.parse(document.getElementById("intake-map-config").textContent);
  var lonInput = document.getElementById("id_lon");
  var latInput = document.getElementById("id_lat");
  var crsInput = document.getElementById("id_crs");
  var categoryInput = document.getElementById("id_category");
  var searchInput = document.getElementById("category-search");
  var chosen = document.getElementById("category-chosen");
  var results = document.getElementById("category-results");

  function announce(name) { document.body.dispatchEvent(new CustomEvent(name, { bubbles: true })); }

  // --- map -----------------------------------------------------------------------------
  var map = L.map("intake-map", { zoomSnap: 0.5, maxZoom: 19 }).setView([36.67, 117.0], 12);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution || "" }).addTo(map);
  }
  var marker = null;
  fetch(config.boundariesUrl, { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      var layer = L.geoJSON(data, {
        style: function (feature) {
          var grid = feature.properties.level === "grid";
          return { color: grid ? "#3367d6" : "#1a237e", weight: grid ? 1 : 2, fillOpacity: grid ? 0.05 : 0 };
        },
        onEachFeature: function (feature, lyr) { lyr.bindTooltip(feature.properties.name, { sticky: true }); },
      }).addTo(map);
      if (!marker && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
    });

  function placeMarker(lat, lon) {
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
  }

  map.on("click", function (event) {
    lonInput.value = event.latlng.lng.toFixed(6);
    latInput.value = event.latlng.lat.toFixed(6);
    crsInput.value = "wgs84";
    placeMarker(event.latlng.lat, event.latlng.lng);
    announce("intake:located");
  });

  // The check partial reports the point in WGS84 (after converting GCJ-02/BD-09).
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "location-check") { return; }
    var box = event.detail.target.querySelector("[data-point-lon]");
    if (box) {
      var lat = parseFloat(box.dataset.pointLat), lon = parseFloat(box.dataset.pointLon);
      placeMarker(lat, lon);
      if (!map.getBounds().contains([lat, lon])) { map.panTo([lat, lon]); }
    }
  });

  // --- category search -----------------------------------------------------------------
  results.addEventListener("click", function (event) {
    var button = event.target.closest("[data-category-id]");
    if (!button) { return; }
    categoryInput.value = button.dataset.categoryId;
    searchInput.value = button.dataset.categoryLabel;
    chosen.textContent = chosen.dataset.chosenPrefix ? chosen.dataset.chosenPrefix + button.dataset.categoryLabel : button.dataset.categoryLabel;
    results.innerHTML = "";
    announce("intake:category");
  });
  searchInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var first = results.querySelector("[data-category-id]");
      if (first) { first.click(); }
    }
  });

  // --- submit once ---------------------------------------------------------------------
  // The idempotency key already makes a second POST harmless; this only spares the wait.
  form.addEventListener("submit", function () {
    var button = form.querySelector("[data-submit-once]");
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
})();
