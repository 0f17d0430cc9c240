/* The service worker of the bus's pages (scope /rounds/): the hand-over page and its
   assets come from the network when there is one, and from this cache when there is
   not, so a tablet reloading the page in a dead zone still has it. API answers are
   never cached here: the round pack lives in IndexedDB, for its round only. */
"use strict";
var CACHE = "refurb-bus-v1";
var ASSETS = ["/static/css/refurb.css", "/static/js/shell.js", "/static/js/codes.js", "/static/js/handover.js",
              "/static/favicon.svg"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheable(url) {
  return url.origin === self.location.origin &&
    (/^\/rounds\/[A-Z0-9]+\/handover$/.test(url.pathname) || ASSETS.indexOf(url.pathname) >= 0);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (!cacheable(url)) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || new Response("offline", { status: 503, headers: { "content-type": "text/plain" } });
    });
  }));
});
