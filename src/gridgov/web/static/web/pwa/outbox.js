/* The device's store (IndexedDB): the outbox of requests waiting to be sent, the patrol
   track being recorded, and the last tasks/categories for offline use.

   Every outbox item carries a key made here (a uuid); the server treats a second request
   with the same key as the first, so sending again after a lost answer is always safe. */
(function (global) {
  "use strict";
  var DB_NAME = "gridgov-m";
  var DB_VERSION = 1;
  var dbPromise = null;

  function open() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("outbox")) { db.createObjectStore("outbox", { keyPath: "key" }); }
        if (!db.objectStoreNames.contains("patrol")) { db.createObjectStore("patrol", { keyPath: "key" }); }
        if (!db.objectStoreNames.contains("cache")) { db.createObjectStore("cache", { keyPath: "name" }); }
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbPromise;
  }

  function run(storeName, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result;
        var request = work(tx.objectStore(storeName));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var store = {
    put: function (name, value) { return run(name, "readwrite", function (s) { return s.put(value); }); },
    get: function (name, key) { return run(name, "readonly", function (s) { return s.get(key); }); },
    remove: function (name, key) { return run(name, "readwrite", function (s) { return s.delete(key); }); },
    all: function (name) { return run(name, "readonly", function (s) { return s.getAll(); }); },
  };

  function uuid() {
    if (global.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- outbox ---------------------------------------------------------------------------
  var listeners = [];
  var syncing = false;

  function notify(event) { listeners.forEach(function (listener) { listener(event); }); }

  /* item: {kind, url, fields, files?, json?, label}; returns the stored item. */
  function enqueue(item) {
    item.key = item.key || uuid();
    item.createdAt = item.createdAt || Date.now();
    item.state = "queued";
    item.attempts = 0;
    item.error = "";
    return store.put("outbox", item).then(function () {
      notify({ type: "queued", item: item });
      requestBackgroundSync();
      return item;
    });
  }

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register("gridgov-outbox"); }
    }).catch(function () { /* not supported: the page syncs on "online" and on a timer */ });
  }

  function buildRequest(item) {
    var headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    if (item.json) {
      headers["Content-Type"] = "application/json";
      return { method: "POST", headers: headers, body: JSON.stringify(item.fields), credentials: "same-origin" };
    }
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) {
      if (item.fields[name] !== null && item.fields[name] !== undefined) { body.append(name, item.fields[name]); }
    });
    (item.files || []).forEach(function (file, index) {
      body.append("photos", file, file.name || "photo-" + (index + 1) + ".jpg");
    });
    return { method: "POST", headers: headers, body: body, credentials: "same-origin" };
  }

  /* Send one item. Resolves to "sent", "failed" (kept for the user to read and delete),
     "retry" (network or server trouble) or "login" (the session has ended). */
  function sendOne(item) {
    item.attempts += 1;
    return fetch(item.url, buildRequest(item)).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      var parse = isJson ? response.json() : Promise.resolve(null);
      return parse.then(function (data) {
        if (response.ok) {
          return store.remove("outbox", item.key).then(function () {
            notify({ type: "sent", item: item, result: data });
            return "sent";
          });
        }
        if (response.status === 401 || (response.status === 403 && !isJson)) { return "login"; }
        if (response.status >= 500 || response.status === 429) { return "retry"; }
        item.state = "failed";
        item.error = describeError(data);
        return store.put("outbox", item).then(function () {
          notify({ type: "failed", item: item });
          return "failed";
        });
      });
    }, function () { return "retry"; });
  }

  function describeError(data) {
    if (!data) { return ""; }
    var parts = [data.message];
    Object.keys(data.fields || {}).forEach(function (name) { parts = parts.concat(data.fields[name]); });
    return parts.filter(Boolean).join(" ");
  }

  /* Send every queued item, oldest first; stops at the first network or login problem. */
  function flush() {
    if (syncing || !navigator.onLine) { return Promise.resolve("idle"); }
    syncing = true;
    notify({ type: "sync-start" });
    return store.all("outbox").then(function (items) {
      var queued = items.filter(function (item) { return item.state === "queued"; });
      queued.sort(function (a, b) { return a.createdAt - b.createdAt; });
      var outcome = "done";
      return queued.reduce(function (chain, item) {
        return chain.then(function () {
          if (outcome !== "done") { return; }
          return sendOne(item).then(function (result) {
            if (result === "retry" || result === "login") { outcome = result; }
          });
        });
      }, Promise.resolve()).then(function () { return outcome; });
    }).then(function (outcome) {
      syncing = false;
      notify({ type: "sync-end", outcome: outcome });
      return outcome;
    }, function (error) {
      syncing = false;
      notify({ type: "sync-end", outcome: "retry", error: error });
      return "retry";
    });
  }

  function retry(key) {
    return store.get("outbox", key).then(function (item) {
      if (!item) { return; }
      item.state = "queued";
      item.error = "";
      return store.put("outbox", item);
    }).then(flush);
  }

  global.GridgovOutbox = {
    store: store,
    uuid: uuid,
    enqueue: enqueue,
    flush: flush,
    retry: retry,
    items: function () { return store.all("outbox"); },
    discard: function (key) { return store.remove("outbox", key).then(function () { notify({ type: "discarded" }); }); },
    onChange: function (listener) { listeners.push(listener); },
    // Replace the queued upload of a patrol track by a newer, longer copy (same key).
    replace: function (item) {
      item.createdAt = item.createdAt || Date.now();
      item.state = "queued";
      item.attempts = 0;
      item.error = "";
      return store.put("outbox", item).then(function () { notify({ type: "queued", item: item }); return item; });
    },
  };
})(window);
