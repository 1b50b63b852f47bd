/* The grid inspectors' app: tasks, event reports, verification, patrol mode, outbox. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("app-config").textContent);
  var text = JSON.parse(document.getElementById("app-text").textContent);
  var outbox = window.GridgovOutbox;
  var PATROL_UPLOAD_MS = 3 * 60 * 1000;
  var LIVE_POSITION_MS = 60 * 1000;
  var SYNC_INTERVAL_MS = 30 * 1000;

  function $(id) { return document.getElementById(id); }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }
  function toast(message) {
    var box = $("toast");
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 3500);
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }
  // Fetch fresh data, keep a copy for offline use, fall back to that copy.
  function cachedJSON(name, url) {
    return getJSON(url).then(function (data) {
      outbox.store.put("cache", { name: name, data: data, at: Date.now() });
      return { data: data, at: Date.now(), fresh: true };
    }, function () {
      return outbox.store.get("cache", name).then(function (copy) {
        return copy ? { data: copy.data, at: copy.at, fresh: false } : null;
      });
    });
  }
  function clockLabel(state) { return text.clock[state] || ""; }
  function timeOf(ms) {
    return new Date(ms).toLocaleTimeString([document.documentElement.lang || "zh-CN"], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  // --- tabs and connection state --------------------------------------------------------
  document.querySelectorAll("[data-show]").forEach(function (button) {
    button.addEventListener("click", function () { showTab(button.dataset.show); });
  });
  function showTab(name) {
    document.querySelectorAll(".m-tab").forEach(function (tab) { tab.hidden = tab.dataset.tab !== name; });
    document.querySelectorAll("[data-show]").forEach(function (b) { b.classList.toggle("is-active", b.dataset.show === name); });
    if (name === "patrol") { loadCoverage(); }
    if (name === "report") { locate(); }
  }
  function showNetState() {
    var badge = $("net-state");
    badge.textContent = navigator.onLine ? badge.dataset.online : badge.dataset.offline;
    badge.classList.toggle("is-offline", !navigator.onLine);
  }
  window.addEventListener("online", function () { showNetState(); outbox.flush(); loadTasks(); });
  window.addEventListener("offline", showNetState);
  showNetState();

  // --- tasks ------------------------------------------------------------------------------
  var tasksById = {};
  function loadTasks() {
    return cachedJSON("tasks", config.urls.tasks).then(function (result) {
      if (!result) { $("tasks-updated").textContent = text.noTasksOffline; return; }
      $("tasks-updated").textContent = fmt(result.fresh ? text.tasksUpdated : text.tasksOffline, { time: timeOf(result.at) });
      renderTasks(result.data);
    });
  }
  function renderTasks(data) {
    tasksById = {};
    fillList($("verify-list"), data.verify, function (task) {
      tasksById[task.id] = task;
      var item = taskItem(task);
      if (config.canVerify) {
        var button = el("button", "m-btn m-btn--small", text.verify);
        button.type = "button";
        button.addEventListener("click", function () { openVerification(task); });
        item.appendChild(button);
      }
      return item;
    });
    fillList($("reported-list"), data.reportedToday, taskItem);
  }
  function taskItem(task) {
    var item = el("li", "m-item");
    var head = el("div", "m-item__head");
    head.appendChild(el("strong", "", task.number));
    head.appendChild(el("span", "m-badge m-badge--" + task.clock, clockLabel(task.clock) || task.statusLabel));
    item.appendChild(head);
    item.appendChild(el("div", "m-item__meta", [task.category, task.statusLabel].filter(Boolean).join(" · ")));
    item.appendChild(el("p", "", task.description));
    if (task.address) { item.appendChild(el("div", "m-muted", task.address)); }
    return item;
  }
  function fillList(list, rows, render) {
    list.innerHTML = "";
    if (!rows || !rows.length) { list.appendChild(el("li", "m-empty", list.dataset.empty)); return; }
    rows.forEach(function (row) { list.appendChild(render(row)); });
  }

  // --- verification -----------------------------------------------------------------------
  var verifyForm = $("verify-form");
  var verifying = null;
  function openVerification(task) {
    verifying = task;
    verifyForm.reset();
    $("verify-error").textContent = "";
    $("verify-title").textContent = fmt(text.verifyTitle, { number: task.number });
    $("verify-description").textContent = task.description;
    $("verify-note-from-handler").textContent = task.handlingNote ? fmt(text.handlerSaid, { note: task.handlingNote }) : "";
    verifyForm.hidden = false;
    verifyForm.scrollIntoView({ behavior: "smooth" });
  }
  verifyForm.querySelector("[data-close-sheet]").addEventListener("click", function () { verifyForm.hidden = true; });
  verifyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var passed = verifyForm.elements.passed.value === "1";
    var note = $("verify-note").value.trim();
    if (!passed && !note) { $("verify-error").textContent = text.noteRequired; return; }
    var key = outbox.uuid();
    outbox.enqueue({
      key: key,
      kind: "verify",
      url: config.urls.verify,
      label: fmt(text.verifyLabel, { number: verifying.number }),
      fields: { key: key, case: verifying.id, passed: passed ? "1" : "0", note: note },
      files: Array.prototype.slice.call($("verify-photos").files),
    }).then(function () {
      verifyForm.hidden = true;
      toast(text.savedForSending);
      outbox.flush();
    });
  });

  // --- report -----------------------------------------------------------------------------
  var position = null;
  var watchId = null;
  function locate() {
    if (!("geolocation" in navigator)) { $("gps-state").textContent = text.noGps; return; }
    if (watchId !== null) { return; }
    $("gps-state").textContent = text.locating;
    watchId = navigator.geolocation.watchPosition(function (pos) {
      // Keep the most precise fix of this session.
      if (!position || pos.coords.accuracy <= position.accuracy || Date.now() - position.at > 60000) {
        position = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy, at: Date.now() };
      }
      $("gps-state").textContent = fmt(text.gpsFix, {
        lon: position.lon.toFixed(6), lat: position.lat.toFixed(6), accuracy: Math.round(position.accuracy),
      });
    }, function (error) {
      $("gps-state").textContent = error.code === 1 ? text.gpsDenied : text.noGps;
      watchId = null;
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  }
  $("gps-refresh").addEventListener("click", function () {
    if (watchId !== null) { navigator.geolocation.clearWatch(watchId); watchId = null; }
    position = null;
    locate();
  });

  var categoryGroups = [];
  function loadCategories() {
    return cachedJSON("categories", config.urls.categories).then(function (result) {
      categoryGroups = result ? result.data.groups : [];
      renderCategories("");
    });
  }
  function renderCategories(filter) {
    var select = $("report-category");
    var chosen = select.value;
    select.innerHTML = "";
    var needle = filter.trim().toLowerCase();
    categoryGroups.forEach(function (group) {
      var items = group.items.filter(function (item) {
        return !needle || (group.name + item.code + item.name + (item.keywords || "")).toLowerCase().indexOf(needle) >= 0;
      });
      if (!items.length) { return; }
      var optgroup = document.createElement("optgroup");
      optgroup.label = group.name;
      items.forEach(function (item) {
        var option = new Option(item.code + " " + item.name, item.id);
        option.selected = String(item.id) === chosen;
        optgroup.appendChild(option);
      });
      select.appendChild(optgroup);
    });
  }
  $("category-filter").addEventListener("input", function (event) { renderCategories(event.target.value); });

  $("report-photos").addEventListener("change", function (event) {
    var box = $("report-previews");
    box.innerHTML = "";
    Array.prototype.forEach.call(event.target.files, function (file) {
      var img = el("img");
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      box.appendChild(img);
    });
  });

  var reportForm = $("report-form");
  reportForm.addEventListener("submit", function (event) {
    event.preventDefault();
    reportForm.querySelectorAll("[data-error-for]").forEach(function (p) { p.textContent = ""; });
    var category = $("report-category").value;
    var description = $("report-description").value.trim();
    var ok = true;
    if (!category) { reportForm.querySelector("[data-error-for=category]").textContent = text.chooseCategory; ok = false; }
    if (!description) { reportForm.querySelector("[data-error-for=description]").textContent = text.describe; ok = false; }
    if (!ok) { return; }
    var fields = { category: category, description: description, address: $("report-address").value.trim() };
    if (position) {
      fields.lon = position.lon.toFixed(7);
      fields.lat = position.lat.toFixed(7);
      fields.accuracy = Math.round(position.accuracy);
    }
    var key = outbox.uuid();
    fields.key = key;
    outbox.enqueue({
      key: key,
      kind: "report",
      url: config.urls.report,
      label: fmt(text.reportLabel, { description: description.slice(0, 20) }),
      fields: fields,
      files: Array.prototype.slice.call($("report-photos").files),
    }).then(function () {
      reportForm.reset();
      $("report-previews").innerHTML = "";
      renderCategories("");
      toast(text.savedForSending);
      outbox.flush();
    });
  });

  // --- patrol -------------------------------------------------------------------------------
  var patrol = null; // {key, points, startedAt, finished}
  var patrolWatch = null;
  var lastUpload = 0;
  function patrolButton() {
    var button = $("patrol-toggle");
    button.textContent = patrol ? button.dataset.stop : button.dataset.start;
    button.classList.toggle("m-btn--danger", !!patrol);
  }
  function startPatrol(existing) {
    patrol = existing || { key: outbox.uuid(), points: [], startedAt: Date.now(), finished: false };
    outbox.store.put("patrol", patrol);
    patrolButton();
    patrolWatch = navigator.geolocation.watchPosition(function (pos) {
      var point = [
        +pos.coords.longitude.toFixed(7), +pos.coords.latitude.toFixed(7), Math.round(pos.coords.accuracy * 10) / 10, pos.timestamp,
      ];
      patrol.points.push(point);
      outbox.store.put("patrol", patrol); // every point is on the device at once
      showPatrol(pos.coords.accuracy);
      if (Date.now() - lastUpload > PATROL_UPLOAD_MS) { queueTrack(); }
      sendLivePosition(point);
    }, function (error) {
      $("patrol-accuracy").textContent = error.code === 1 ? text.gpsDenied : text.noGps;
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
  }
  // While online, the big screen shows where inspectors are; nothing is queued for this.
  var lastLive = 0;
  function sendLivePosition(point) {
    if (!config.urls.livePosition || !navigator.onLine || Date.now() - lastLive < LIVE_POSITION_MS) { return; }
    lastLive = Date.now();
    var csrf = (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1] || "";
    fetch(config.urls.livePosition, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(csrf) },
      body: JSON.stringify({ lon: point[0], lat: point[1], accuracy: point[2] }),
    }).catch(function () {});
  }

  function stopPatrol() {
    if (patrolWatch !== null) { navigator.geolocation.clearWatch(patrolWatch); patrolWatch = null; }
    patrol.finished = true;
    var done = patrol.points.length ? queueTrack() : Promise.resolve();
    var key = patrol.key;
    patrol = null;
    patrolButton();
    return done.then(function () { return outbox.store.remove("patrol", key); }).then(function () {
      toast(text.patrolSaved);
      outbox.flush().then(loadCoverage);
    });
  }
  function queueTrack() {
    lastUpload = Date.now();
    return outbox.replace({
      key: patrol.key,
      kind: "patrol",
      json: true,
      url: config.urls.patrol,
      label: fmt(text.patrolLabel, { time: timeOf(patrol.startedAt) }),
      fields: { key: patrol.key, points: patrol.points.slice(), finished: patrol.finished },
    }).then(function () { return outbox.flush(); });
  }
  function showPatrol(accuracy) {
    if (!patrol) { return; }
    var minutes = Math.round((Date.now() - patrol.startedAt) / 60000);
    $("patrol-duration").textContent = fmt(text.minutes, { n: minutes });
    $("patrol-points").textContent = String(patrol.points.length);
    $("patrol-distance").textContent = formatDistance(trackLength(patrol.points));
    if (accuracy !== undefined) { $("patrol-accuracy").textContent = fmt(text.metres, { n: Math.round(accuracy) }); }
  }
  function trackLength(points) {
    var total = 0;
    for (var i = 1; i < points.length; i++) { total += haversine(points[i - 1], points[i]); }
    return total;
  }
  function haversine(a, b) {
    var rad = Math.PI / 180, phi1 = a[1] * rad, phi2 = b[1] * rad;
    var dphi = phi2 - phi1, dl = (b[0] - a[0]) * rad;
    var h = Math.sin(dphi / 2) * Math.sin(dphi / 2) + Math.cos(phi1) * Math.cos(phi2) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }
  function formatDistance(metres) {
    return metres < 1000 ? fmt(text.metres, { n: Math.round(metres) }) : fmt(text.kilometres, { n: (metres / 1000).toFixed(2) });
  }
  $("patrol-toggle").addEventListener("click", function () {
    if (!("geolocation" in navigator)) { toast(text.noGps); return; }
    if (patrol) { stopPatrol(); } else { startPatrol(); }
  });
  setInterval(function () { showPatrol(); }, 30000);
  // A patrol that was running when the page closed continues.
  outbox.store.all("patrol").then(function (tracks) {
    var running = tracks.filter(function (t) { return !t.finished; })[0];
    if (running) { startPatrol(running); showPatrol(); }
  });

  var coverageMap = null, coverageLayer = null;
  function loadCoverage() {
    return cachedJSON("coverage", config.urls.coverage).then(function (result) {
      if (!result) { return; }
      var summary = $("coverage-summary");
      summary.innerHTML = "";
      result.data.grids.forEach(function (grid) {
        var row = el("div", "m-coverage__row");
        row.appendChild(el("span", "", grid.name));
        var bar = el("span", "m-bar-track");
        var fill = el("span", "m-bar-fill");
        fill.style.width = Math.round(grid.ratio * 100) + "%";
        bar.appendChild(fill);
        row.appendChild(bar);
        row.appendChild(el("strong", "", fmt(text.coverage, { pct: Math.round(grid.ratio * 100) })));
        summary.appendChild(row);
      });
      drawCoverage(result.data.grids);
    });
  }
  function drawCoverage(grids) {
    if (!window.L) { return; }
    if (!coverageMap) {
      coverageMap = L.map("coverage-map", { maxZoom: 19, zoomSnap: 0.5 }).setView([36.67, 117.0], 13);
      if (config.tileUrl) { L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(coverageMap); }
    }
    if (coverageLayer) { coverageLayer.remove(); }
    coverageLayer = L.featureGroup().addTo(coverageMap);
    grids.forEach(function (grid) {
      L.geoJSON(grid.boundary, { style: { color: "#1d4f9c", weight: 2, fillOpacity: 0.03 } }).addTo(coverageLayer);
      grid.visited.forEach(function (ring) {
        L.polygon(ring.map(function (p) { return [p[1], p[0]]; }), { color: "#2f8a57", weight: 0.5, fillOpacity: 0.45 }).addTo(coverageLayer);
      });
    });
    if (coverageLayer.getBounds().isValid()) { coverageMap.fitBounds(coverageLayer.getBounds(), { padding: [10, 10] }); }
  }

  // --- outbox view and syncing ----------------------------------------------------------------
  function renderOutbox() {
    return outbox.items().then(function (items) {
      items.sort(function (a, b) { return a.createdAt - b.createdAt; });
      var count = $("outbox-count");
      count.textContent = String(items.length);
      count.hidden = items.length === 0;
      fillList($("outbox-list"), items, function (item) {
        var row = el("li", "m-item" + (item.state === "failed" ? " m-item--failed" : ""));
        var head = el("div", "m-item__head");
        head.appendChild(el("strong", "", text.kinds[item.kind] || item.kind));
        head.appendChild(el("span", "m-muted", timeOf(item.createdAt)));
        row.appendChild(head);
        row.appendChild(el("p", "", item.label || ""));
        row.appendChild(el("div", "m-item__meta", item.state === "failed" ? fmt(text.failed, { error: item.error }) : text.waiting));
        if (item.state === "failed") {
          var actions = el("div", "m-actions");
          var again = el("button", "m-btn m-btn--small m-btn--ghost", text.retry);
          again.type = "button";
          again.addEventListener("click", function () { outbox.retry(item.key); });
          var discard = el("button", "m-btn m-btn--small m-btn--danger", text.discard);
          discard.type = "button";
          discard.addEventListener("click", function () { if (confirm(text.confirmDiscard)) { outbox.discard(item.key); } });
          actions.appendChild(again);
          actions.appendChild(discard);
          row.appendChild(actions);
        }
        return row;
      });
    });
  }
  outbox.onChange(function (event) {
    if (event.type === "sent" && event.result && event.result.number) {
      toast(fmt(event.item.kind === "verify" ? text.verifySent : text.reportSent, { number: event.result.number }));
    }
    if (event.type === "sync-start") { $("sync-state").textContent = text.syncing; }
    if (event.type === "sync-end") {
      $("sync-state").textContent = event.outcome === "login" ? text.signInAgain
        : event.outcome === "retry" ? text.willRetry : fmt(text.syncedAt, { time: timeOf(Date.now()) });
      if (event.outcome === "done") { loadTasks(); }
    }
    renderOutbox();
  });
  $("sync-now").addEventListener("click", function () {
    if (!navigator.onLine) { toast(text.offlineNow); return; }
    outbox.flush();
  });
  setInterval(function () { outbox.flush(); }, SYNC_INTERVAL_MS);

  // --- service worker ---------------------------------------------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.serviceWorker, { scope: config.scope || "/m/" }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data === "gridgov-outbox") { outbox.flush(); }
    });
  }

  loadTasks();
  loadCategories();
  renderOutbox();
  outbox.flush();
})();
