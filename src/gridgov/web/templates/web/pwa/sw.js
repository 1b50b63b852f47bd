/* Service worker of the grid inspectors' app (served at /sw.js, controls /m/).
   - The app shell (/m/) is network-first with the last good copy as the offline fallback.
   - Static files are cache-first (their names change only with a new app version).
   - API calls are never cached here: the page keeps its own copies in IndexedDB, and
     queued requests stay in the page's outbox until the server has answered. */
"use strict";
const CONFIG = {{ config_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CONFIG.cache)
      .then((cache) => Promise.all([
        cache.addAll(CONFIG.shell.filter((url) => url.startsWith(CONFIG.staticPrefix))),
        cacheShell(cache),
      ]))
      .then(() => self.skipWaiting())
  );
});

// The page that registers the worker is already signed in: keep its shell for offline use.
async function cacheShell(cache) {
  try {
    const response = await fetch(CONFIG.scope, { credentials: "same-origin" });
    if (response.ok && !response.redirected) await cache.put(CONFIG.scope, response);
  } catch (error) {
    /* offline at install: the next online visit stores it */
  }
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("gridgov-m-") && n !== CONFIG.cache).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

function isShell(url, request) {
  return request.mode === "navigate" && url.pathname === CONFIG.scope;
}

async function networkFirstShell(request) {
  const cache = await caches.open(CONFIG.cache);
  try {
    const response = await fetch(request);
    // A redirect means "sign in first": never keep it as the app.
    if (response.ok && !response.redirected) {
      await cache.put(CONFIG.scope, response.clone());
    }
    return response;
  } catch (error) {
    const copy = await cache.match(CONFIG.scope);
    if (copy) return copy;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CONFIG.cache);
  const copy = await cache.match(request);
  if (copy) return copy;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isShell(url, request)) {
    event.respondWith(networkFirstShell(request));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(cacheFirst(request));
  }
});

// Background Sync: wake the open app to send its outbox.
self.addEventListener("sync", (event) => {
  if (event.tag !== "gridgov-outbox") return;
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((clients) => clients.forEach((client) => client.postMessage("gridgov-outbox")))
  );
});
