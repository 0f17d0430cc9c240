/* The bus's hand-over page, made to work without a network.

   Online, the round pack (GET /api/v1/rounds/{R}/pack) is kept in IndexedDB for
   this round only; scans are checked against it, a hand-over completes on the
   tablet and goes to a queue (IndexedDB too, each with its own Idempotency-Key),
   sent in order whenever the network is there. A hand-over the server refuses
   goes to the conflict list, never dropped and never sent again. A pack past its
   expiry, or of a round closed or no longer ours, is wiped. */
(function () {
  "use strict";
  var root = document.getElementById("handover");
  if (!root) return;
  var ROUND = root.dataset.round;
  var messages = JSON.parse(document.getElementById("handover-messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var input = document.getElementById("scan-input");
  var message = document.getElementById("message");
  var canvas = document.getElementById("signature");
  var db = null;
  var pack = null;
  var family = null; /* the appointment in hand */
  var scanned = []; /* its devices scanned, in order */
  var signed = false;
  var sending = false;

  function say(template, params) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return params && name in params ? params[name] : ""; });
  }
  function show(kind, text) {
    message.textContent = text;
    message.className = kind;
    root.dataset.lastResult = kind;
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  /* --- IndexedDB: packs (by round), queue (in order), conflicts --- */
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("refurb-bus", 1);
      request.onupgradeneeded = function () {
        var base = request.result;
        base.createObjectStore("packs", { keyPath: "round" });
        base.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        base.createObjectStore("conflicts", { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(name, mode) { return db.transaction(name, mode).objectStore(name); }
  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function all(name) {
    return done(store(name, "readonly").getAll()).then(function (items) {
      return items.filter(function (item) { return item.round === ROUND; });
    });
  }

  /* --- the pack --- */
  function wipe(text) {
    pack = null;
    return done(store("packs", "readwrite").delete(ROUND)).then(function () {
      document.getElementById("pack-state").textContent = text;
    });
  }
  function keep(fresh) {
    fresh.round_code = fresh.round.code;
    var record = { round: ROUND, pack: fresh, saved_at: new Date().toISOString() };
    return done(store("packs", "readwrite").put(record)).then(function () {
      pack = fresh;
      document.getElementById("pack-state").textContent = say(messages.pack_saved, { n: fresh.appointments.length });
    });
  }
  function expired(record) { return !record || new Date(record.pack.expires_at) < new Date(); }
  function wipeOthers() { /* packs of other rounds past their 24 hours */
    return done(store("packs", "readonly").getAll()).then(function (records) {
      records.forEach(function (record) {
        if (record.round !== ROUND && expired(record)) store("packs", "readwrite").delete(record.round);
      });
    });
  }
  function loadPack() {
    return done(store("packs", "readonly").get(ROUND)).then(function (record) {
      if (record && expired(record)) return wipe(messages.pack_wiped);
      if (record) {
        pack = record.pack;
        document.getElementById("pack-state").textContent = say(messages.pack_saved, { n: pack.appointments.length });
      }
      if (!navigator.onLine) {
        if (!pack) document.getElementById("pack-state").textContent = messages.pack_missing;
        return;
      }
      return fetch("/api/v1/rounds/" + ROUND + "/pack", { credentials: "same-origin", headers: { accept: "application/json" } })
        .then(function (response) {
          if (response.status === 404 || response.status === 403) return wipe(messages.pack_wiped);
          if (!response.ok) return;
          return response.json().then(function (fresh) {
            if (fresh.round.status === "closed") return wipe(messages.pack_wiped);
            return keep(mergeLocal(fresh));
          });
        }, function () { if (!pack) document.getElementById("pack-state").textContent = messages.pack_missing; });
    });
  }
  /* what this tablet handed over but has not sent yet stays handed over in a fresh pack */
  function mergeLocal(fresh) {
    var handed = {};
    if (pack) pack.appointments.forEach(function (a) {
      a.devices.forEach(function (d) { if (d.state === "handed_over") handed[d.code] = true; });
    });
    fresh.appointments.forEach(function (a) {
      a.devices.forEach(function (d) { if (handed[d.code]) d.state = "handed_over"; });
    });
    return fresh;
  }

  /* --- the queue --- */
  function refreshCounts() {
    return Promise.all([all("queue"), all("conflicts")]).then(function (found) {
      var waiting = found[0].length;
      var box = document.getElementById("waiting");
      box.dataset.waiting = String(waiting);
      box.textContent = say(messages.waiting, { n: waiting });
      var list = document.getElementById("conflict-list");
      list.textContent = "";
      found[1].forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.problem = item.problem.code || "";
        li.textContent = say(messages.conflict, {
          device: item.body.device, household: item.body.household, detail: item.problem.detail || item.problem.title
        });
        list.appendChild(li);
      });
      document.getElementById("conflicts-box").dataset.count = String(found[1].length);
    });
  }
  function pump() {
    if (sending || !navigator.onLine || !db) return;
    sending = true;
    all("queue").then(function (items) {
      items.sort(function (a, b) { return a.seq - b.seq; });
      return sendNext(items);
    }).then(function () { sending = false; return refreshCounts(); }, function () { sending = false; });
  }
  function sendNext(items) {
    if (!items.length || !navigator.onLine) return Promise.resolve();
    var item = items[0];
    return fetch("/api/v1/rounds/" + item.round + "/handovers", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrf, "idempotency-key": item.key },
      body: JSON.stringify(item.body)
    }).then(function (response) {
      if (response.ok) {
        return done(store("queue", "readwrite").delete(item.seq)).then(function () { return sendNext(items.slice(1)); });
      }
      /* not the hand-over's fault: the server, the session or the network; kept, sent again later */
      if (response.status >= 500 || response.status === 401 || response.status === 408 || response.status === 429) {
        if (response.status === 401) show("error", messages.login_again);
        return null;
      }
      return response.json().catch(function () { return { title: String(response.status) }; }).then(function (problem) {
        if (problem.code === "idempotency_in_flight" || problem.code === "device_busy") return null; /* later */
        if (problem.code === "csrf_failed") { show("error", messages.login_again); return null; }
        var tx = db.transaction(["queue", "conflicts"], "readwrite");
        tx.objectStore("conflicts").add({ round: item.round, key: item.key, body: item.body, problem: problem });
        tx.objectStore("queue").delete(item.seq);
        return new Promise(function (resolve) { tx.oncomplete = resolve; }).then(function () {
          return sendNext(items.slice(1));
        });
      });
    }, function () { return null; /* no network after all: the next tick tries again */ });
  }

  /* --- the flow: a family, its devices, the agreement --- */
  function findFamily(code) {
    if (!pack) return null;
    for (var i = 0; i < pack.appointments.length; i++) {
      if (pack.appointments[i].household === code) return pack.appointments[i];
    }
    return null;
  }
  function ownerOf(code) {
    if (!pack) return null;
    for (var i = 0; i < pack.appointments.length; i++) {
      var a = pack.appointments[i];
      for (var j = 0; j < a.devices.length; j++) if (a.devices[j].code === code) return { appointment: a, device: a.devices[j] };
    }
    return null;
  }
  function renderFamily() {
    var box = document.getElementById("family");
    box.hidden = !family;
    document.getElementById("agreement").hidden = !family || !scanned.length;
    if (!family) return;
    document.getElementById("family-title").textContent =
      say(messages.family, { ref: family.display_code }) + (family.greet_name ? " · " + family.greet_name : "");
    var stop = (pack.round.stops || []).filter(function (s) { return s.id === family.stop; })[0];
    document.getElementById("family-slot").textContent = say(messages.slot, { slot: family.slot, place: stop ? stop.place : "" });
    var list = document.getElementById("devices");
    list.textContent = "";
    family.devices.forEach(function (d) {
      var li = document.createElement("li");
      li.dataset.device = d.code;
      li.dataset.state = d.state === "handed_over" ? "handed_over" : scanned.indexOf(d.code) >= 0 ? "scanned" : "expected";
      li.textContent = d.display_code + " · " + d.description + (d.serial ? " · " + d.serial : "") +
        (li.dataset.state === "scanned" ? " ✓" : li.dataset.state === "handed_over" ? " ✔✔" : "");
      list.appendChild(li);
    });
    var terms = document.getElementById("terms");
    terms.textContent = "";
    family.terms.forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      terms.appendChild(li);
    });
    document.getElementById("support").textContent = family.support;
  }
  function reset() {
    family = null;
    scanned = [];
    clearSignature();
    document.getElementById("typed-name").value = "";
    document.getElementById("identity").checked = false;
    document.getElementById("support-given").checked = false;
    document.querySelectorAll('input[name="training"]').forEach(function (r) { r.checked = false; });
    renderFamily();
    input.focus();
  }
  function onScan(text) {
    var read = window.RefurbCodes.read(text);
    if (read.kind === "empty") return;
    if (read.kind !== "code") return show("error", messages.bad_code);
    var letter = read.compact.charAt(0);
    if (letter === "F") {
      var found = findFamily(read.compact);
      if (!found) return show("error", say(messages.not_convoked, { ref: read.display }));
      family = found;
      scanned = [];
      renderFamily();
      return show("ok", say(messages.family, { ref: found.display_code }));
    }
    if (letter !== "D") return show("error", messages.not_a_family);
    if (!family) return show("error", messages.not_a_family);
    var owner = ownerOf(read.compact);
    if (!owner) return show("error", say(messages.device_unknown, { ref: read.display }));
    if (owner.appointment !== family) return show("error", say(messages.device_other, { ref: read.display }));
    if (owner.device.state === "handed_over") return show("error", say(messages.device_done, { ref: read.display }));
    if (scanned.indexOf(read.compact) < 0) scanned.push(read.compact);
    renderFamily();
    show("ok", say(messages.device_ok, { ref: read.display }));
  }
  function confirm() {
    if (!family) return show("error", messages.not_a_family);
    if (!scanned.length) return show("error", messages.need_device);
    var typed = document.getElementById("typed-name").value.trim();
    if (!signed && !typed) return show("error", messages.need_signature);
    if (!document.getElementById("identity").checked) return show("error", messages.need_identity);
    var training = document.querySelector('input[name="training"]:checked');
    var now = new Date().toISOString();
    var signature = signed ? canvas.toDataURL("image/png") : null;
    var tx = db.transaction(["queue", "packs"], "readwrite");
    scanned.forEach(function (code) {
      tx.objectStore("queue").add({
        round: ROUND,
        key: newKey(),
        body: {
          household: family.household,
          device: code,
          terms_version: pack.terms_version,
          signature_png: signature,
          typed_name: typed || null,
          identity_checked: true,
          support_given: document.getElementById("support-given").checked,
          training: training ? training.value : "none",
          queued_at: now
        }
      });
      family.devices.forEach(function (d) { if (d.code === code) d.state = "handed_over"; });
      var li = document.createElement("li");
      li.textContent = say(messages.handed, { device: code, household: family.display_code, when: new Date().toLocaleTimeString() });
      document.getElementById("done-list").appendChild(li);
    });
    tx.objectStore("packs").put({ round: ROUND, pack: pack, saved_at: now });
    var count = scanned.length;
    var ref = family.display_code;
    tx.oncomplete = function () {
      show("ok", say(messages.recorded, { ref: ref, count: count }));
      reset();
      refreshCounts().then(pump);
    };
  }

  /* --- the signature: pointer events, mouse and touch alike --- */
  var drawing = false;
  var pen = canvas.getContext("2d");
  function point(event) {
    var box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
  }
  function clearSignature() {
    pen.fillStyle = "#fff";
    pen.fillRect(0, 0, canvas.width, canvas.height);
    signed = false;
  }
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = point(event);
    pen.beginPath();
    pen.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) return;
    var p = point(event);
    pen.lineWidth = 3;
    pen.lineCap = "round";
    pen.strokeStyle = "#000";
    pen.lineTo(p.x, p.y);
    pen.stroke();
    signed = true;
  });
  canvas.addEventListener("pointerup", function () { drawing = false; });
  canvas.addEventListener("pointercancel", function () { drawing = false; });
  canvas.style.touchAction = "none";
  document.getElementById("clear-signature").addEventListener("click", clearSignature);
  document.getElementById("confirm").addEventListener("click", confirm);
  document.getElementById("cancel").addEventListener("click", reset);

  /* --- the scan input keeps the focus, outside the agreement's own fields --- */
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== "Tab") return;
    event.preventDefault();
    var text = input.value;
    input.value = "";
    onScan(text);
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#agreement, a, button, input, label, select, textarea, canvas")) input.focus();
  });

  function network() {
    var box = document.getElementById("network");
    box.textContent = navigator.onLine ? messages.online : messages.offline;
    box.dataset.online = navigator.onLine ? "yes" : "no";
  }
  window.addEventListener("online", function () { network(); loadPack().then(pump); });
  window.addEventListener("offline", network);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/rounds/sw.js", { scope: "/rounds/" }).catch(function () { /* pages still work online */ });
  }
  if (window.caches && navigator.onLine) { /* this very page, for a reload in a dead zone (the first visit is not the worker's) */
    caches.open("refurb-bus-v1").then(function (cache) { return cache.add(window.location.pathname); }).catch(function () {});
  }
  clearSignature();
  network();
  openDb().then(function (opened) {
    db = opened;
    return wipeOthers();
  }).then(loadPack).then(refreshCounts).then(function () {
    root.dataset.ready = "yes";
    pump();
    window.setInterval(pump, 10000);
  });
  input.focus();
})();
