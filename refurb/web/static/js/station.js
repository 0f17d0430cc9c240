/* The station page: one input that keeps the focus. A keyboard-wedge scanner
   types the code and ends with Enter (or Tab); the code is checked here, sent
   to POST /api/v1/scans, and the answer flashes green or red with a sound. */
(function () {
  "use strict";
  var root = document.getElementById("station");
  if (!root) return;
  var input = document.getElementById("scan-input");
  var ready = document.getElementById("ready");
  var feedback = document.getElementById("feedback");
  var feedbackText = feedback.querySelector(".feedback-text");
  var log = document.getElementById("scan-log");
  var form = document.getElementById("scan-form");
  var formTitle = document.getElementById("scan-form-title");
  var formFields = document.getElementById("scan-form-fields");
  var formSubmit = document.getElementById("scan-form-submit");
  var secretBox = document.getElementById("secret");
  var secretValue = document.getElementById("secret-value");
  var messages = JSON.parse(document.getElementById("station-messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var station = root.dataset.station;
  var primary = root.dataset.primary;
  var mode = primary;
  var DUPLICATE_MS = 2000;
  var MAX_LOG = 10;
  var last = { text: null, at: 0 };
  var busy = false;
  var pending = null; /* the scan a form is answering */
  var context = {}; /* what the station works on (e.g. the batch being received), as the server said */
  var contextBox = document.getElementById("scan-context");
  var contextText = document.getElementById("scan-context-text");
  var feedbackTimer = null;
  var audio = null;

  /* --- focus: the input always has it, unless a form is open --- */
  function formOpen() { return !form.hidden || !secretBox.hidden; }
  function focusInput() {
    if (formOpen()) return;
    if (document.activeElement !== input) input.focus({ preventScroll: true });
    showReady();
  }
  function showReady() {
    var ok = document.hasFocus() && (document.activeElement === input || formOpen());
    ready.textContent = ok ? messages.ready : messages.not_ready;
    ready.classList.toggle("not-ready", !ok);
  }
  input.addEventListener("blur", function () { setTimeout(focusInput, 0); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) focusInput(); });
  window.addEventListener("focus", focusInput);
  window.addEventListener("blur", showReady);
  document.addEventListener("click", function (event) {
    if (!formOpen() && !event.target.closest("button, a, select, textarea, input")) focusInput();
  });
  ready.addEventListener("click", focusInput);
  document.getElementById("keyboard-toggle").addEventListener("click", function () {
    input.setAttribute("inputmode", input.getAttribute("inputmode") === "none" ? "text" : "none");
    input.blur();
    focusInput();
  });

  /* --- modes --- */
  Array.prototype.forEach.call(root.querySelectorAll(".mode"), function (button) {
    button.addEventListener("click", function () {
      mode = button.dataset.action;
      Array.prototype.forEach.call(root.querySelectorAll(".mode"), function (other) {
        var on = other === button;
        other.classList.toggle("active", on);
        other.setAttribute("aria-checked", on ? "true" : "false");
      });
      root.classList.toggle("secondary-mode", mode !== primary);
      focusInput();
    });
  });

  /* --- the batch (or other thing) the station is working on --- */
  function setContext(next, thing) {
    context = next || {};
    var on = Object.keys(context).length > 0;
    if (on && thing && thing.type !== "device") contextText.textContent = thing.display_code + " · " + thing.title;
    contextBox.hidden = !on;
    root.dataset.context = on ? JSON.stringify(context) : "";
  }
  document.getElementById("scan-context-leave").addEventListener("click", function () {
    setContext({});
    focusInput();
  });

  /* --- sound and colour --- */
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = ok ? "sine" : "square";
      oscillator.frequency.value = ok ? 1320 : 220;
      gain.gain.value = 0.15;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + (ok ? 0.12 : 0.45));
    } catch (e) { /* no sound on this device */ }
  }
  function flash(kind, text) {
    root.dataset.lastResult = kind;
    if (kind === "ask") return; /* the form itself is the signal; an overlay would hide it */
    feedback.className = "feedback feedback-" + kind;
    feedbackText.textContent = text;
    feedback.hidden = false;
    clearTimeout(feedbackTimer);
    feedbackTimer = setTimeout(function () { feedback.hidden = true; }, kind === "error" ? 2500 : 1200);
    beep(kind === "ok");
  }
  feedback.addEventListener("click", function () { feedback.hidden = true; focusInput(); });

  function addLabelButton(item, label, text) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "label-action";
    button.textContent = text || messages.print_label;
    button.addEventListener("click", function () {
      button.disabled = true;
      var job = { codes: [label.code], kind: label.kind, station: station };
      window.RefurbPrint.printLabels(job, window.RefurbPrint.pdfTab(job)).then(function (result) {
        button.textContent = result.printer ? messages.printed + " " + result.printer : messages.printed_pdf;
        focusInput();
      }, function (problem) {
        button.disabled = false;
        button.textContent = "✘ " + (problem.detail || problem.title);
      });
    });
    item.appendChild(document.createElement("br"));
    item.appendChild(button);
  }

  function addLog(kind, code, text) {
    var item = document.createElement("li");
    item.className = "log-" + kind;
    var time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    var message = document.createElement("span");
    message.textContent = text;
    item.append(time, " ");
    if (text.indexOf(code) < 0) {
      var codeEl = document.createElement("code");
      codeEl.textContent = code;
      item.append(codeEl, " ");
    }
    item.append(message);
    log.insertBefore(item, log.firstChild);
    while (log.children.length > MAX_LOG) log.removeChild(log.lastChild);
    return item;
  }

  /* --- the stage-specific form a handler asks for --- */
  function openForm(answer, scanned) {
    pending = { text: scanned, action: answer.form.action };
    formTitle.textContent = answer.form.title;
    formSubmit.textContent = answer.form.submit;
    formFields.textContent = "";
    answer.form.fields.forEach(function (field) {
      if (field.section) {
        var heading = document.createElement("h3");
        heading.className = "form-section";
        heading.textContent = field.section;
        formFields.appendChild(heading);
      }
      var label = document.createElement("label");
      label.textContent = field.label;
      var control;
      if (field.type === "select") {
        control = document.createElement("select");
        field.options.forEach(function (option) {
          var el = document.createElement("option");
          el.value = option.value;
          el.textContent = option.label;
          control.appendChild(el);
        });
      } else {
        control = document.createElement("input");
        control.type = field.type === "number" ? "number" : (field.type === "checkbox" ? "checkbox" : "text");
        if (field.max_length) control.maxLength = field.max_length;
        control.autocomplete = "off";
      }
      control.name = field.name;
      control.required = field.required;
      if (field.type === "number") {
        control.step = "any";
        if (field.minimum !== null && field.minimum !== undefined) control.min = field.minimum;
        if (field.maximum !== null && field.maximum !== undefined) control.max = field.maximum;
      }
      if (field.default !== null && field.default !== undefined) control.value = field.default;
      label.appendChild(control);
      if (field.help) {
        var help = document.createElement("small");
        help.className = "help";
        help.textContent = field.help;
        label.appendChild(help);
      }
      formFields.appendChild(label);
    });
    form.hidden = false;
    /* the first field still to fill; when every field has its value, Enter on the button confirms */
    var controls = Array.prototype.slice.call(formFields.querySelectorAll("input, select"));
    var empty = controls.filter(function (c) { return c.type !== "checkbox" && !c.value; })[0];
    (empty || formSubmit).focus();
  }
  function closeForm() {
    form.hidden = true;
    pending = null;
    focusInput();
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pending) return;
    var inputs = {};
    Array.prototype.forEach.call(formFields.querySelectorAll("input, select"), function (control) {
      inputs[control.name] = control.type === "checkbox" ? control.checked : control.value;
    });
    var answering = pending;
    form.hidden = true;
    pending = null;
    focusInput();
    send(answering.text, answering.action, inputs);
  });
  document.getElementById("scan-form-cancel").addEventListener("click", closeForm);
  form.addEventListener("keydown", function (event) { if (event.key === "Escape") closeForm(); });

  /* --- a secret shown once (a licence key to type): big, grouped, never logged nor kept --- */
  function showSecret(secret) {
    var groups = secret.indexOf("-") >= 0 ? secret.split("-") : secret.match(/.{1,5}/g);
    secretValue.textContent = "";
    groups.forEach(function (group, index) {
      if (index) secretValue.appendChild(document.createTextNode(" - "));
      var part = document.createElement("span");
      part.textContent = group;
      secretValue.appendChild(part);
    });
    secretBox.hidden = false;
    document.getElementById("secret-done").focus();
  }
  document.getElementById("secret-done").addEventListener("click", function () {
    secretValue.textContent = "";
    secretBox.hidden = true;
    focusInput();
  });

  /* --- scanning --- */
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function send(text, action, inputs) {
    busy = true;
    root.classList.add("busy");
    var body = { station: station, text: text, inputs: inputs || {}, context: context };
    if (action !== primary) body.action = action;
    return fetch("/api/v1/scans", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrftoken": csrf, "idempotency-key": newKey() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (reply) {
      var answer = reply.answer;
      if (reply.ok) setContext(answer.context, answer.thing);
      if (!reply.ok) {
        flash("error", answer.detail || answer.title);
        var failed = addLog("error", text, answer.detail || answer.title);
        if (answer.label) addLabelButton(failed, answer.label);
      } else if (answer.result === "needs_input") {
        flash("ask", answer.message);
        addLog("ask", answer.thing.display_code, answer.message);
        openForm(answer, text);
      } else {
        var note = "";
        if (answer.printed && answer.printed.error) note = " · " + answer.printed.error;
        else if (answer.printed) note = " · " + messages.printed + " " + (answer.printed.printer || "PDF");
        flash("ok", answer.message + note);
        var done = addLog("ok", answer.thing.display_code, answer.message + note);
        if (answer.reprint) addLabelButton(done, answer.reprint, messages.reprint);
        if (answer.secret) showSecret(answer.secret);
      }
    }).catch(function () {
      flash("error", messages.network);
      addLog("error", text, messages.network);
    }).then(function () {
      busy = false;
      root.classList.remove("busy");
    });
  }

  function handle(raw) {
    var read = window.RefurbCodes.read(raw);
    if (read.kind === "empty") return;
    var key = read.kind === "code" ? read.compact : raw.trim();
    var now = Date.now();
    if (key === last.text && now - last.at < DUPLICATE_MS) {
      root.dataset.duplicates = String(Number(root.dataset.duplicates || 0) + 1);
      return;
    }
    last = { text: key, at: now };
    if (read.kind === "error") {
      var text = messages[read.code] || messages.bad_check_digit;
      flash("error", text);
      addLog("error", raw.trim(), text);
      return;
    }
    send(read.kind === "code" ? read.compact : read.text, mode);
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === "Tab" || event.key === "\u0004") {
      event.preventDefault();
      var raw = input.value;
      input.value = "";
      if (!busy) handle(raw);
      else setTimeout(function () { handle(raw); }, 150);
    }
  });

  focusInput();
  setInterval(showReady, 1000);
})();
