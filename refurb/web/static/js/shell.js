/* The menu button of narrow screens: opens and closes the main navigation. */
(function () {
  "use strict";
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("main-nav");
  if (!toggle || !nav) return;
  document.documentElement.classList.add("has-menu");
  function set(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  }
  toggle.addEventListener("click", function () { set(toggle.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) { set(false); toggle.focus(); }
  });
  var here = location.pathname, best = null;
  Array.prototype.forEach.call(nav.querySelectorAll("a"), function (link) {
    var path = link.getAttribute("href");
    var match = path === here || (path !== "/" && here.indexOf(path + "/") === 0);
    if (match && (!best || path.length > best.getAttribute("href").length)) best = link;
  });
  if (best) best.setAttribute("aria-current", "page");
})();

/* A table wider than the screen scrolls in its frame: the frame takes the keyboard focus then. */
(function () {
  "use strict";
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-scroll"), function (frame) {
      if (frame.scrollWidth > frame.clientWidth) frame.setAttribute("tabindex", "0");
      else frame.removeAttribute("tabindex");
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();

/* Logging out of a bus tablet wipes the round packs (families' names) and the cached hand-over
   pages; the queue of hand-overs not sent yet stays, to be sent at the next login. */
(function () {
  "use strict";
  var form = document.querySelector("form.logout");
  if (!form || !window.indexedDB) return;
  form.addEventListener("submit", function (event) {
    if (form.dataset.wiped) return;
    event.preventDefault();
    var finish = function () { form.dataset.wiped = "yes"; form.submit(); };
    var caching = window.caches ? caches.delete("refurb-bus-v1").catch(function () {}) : Promise.resolve();
    var request = indexedDB.open("refurb-bus", 1);
    request.onupgradeneeded = function () {
      var base = request.result;
      base.createObjectStore("packs", { keyPath: "round" });
      base.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
      base.createObjectStore("conflicts", { keyPath: "seq", autoIncrement: true });
    };
    request.onerror = function () { caching.then(finish); };
    request.onsuccess = function () {
      var tx = request.result.transaction("packs", "readwrite");
      tx.objectStore("packs").clear();
      tx.oncomplete = function () { request.result.close(); caching.then(finish); };
      tx.onerror = function () { caching.then(finish); };
    };
    window.setTimeout(finish, 2000); /* never keep someone from logging out */
  });
})();
