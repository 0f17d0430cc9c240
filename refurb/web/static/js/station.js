/* The station page: one input that keeps the focus. A keyboard-wedge scanner
   types the code and ends with Enter (or Tab); the code is checked here, queued,
   sent to POST /api/v1/scans one at a time in the order it was read (a retry
   keeps its place), and the answer flashes green (✔), amber (a label to stick
   on, a question) or red (✘, stays until the next scan or a tap) with a sound. */
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
  var queue = []; /* scans read and not answered yet, in the order they were read */
  var sending = false;
  var RETRIES = 3;
  var pending = null; /* the scan a form is answering */
  var context = {}; /* what the station works on (e.g. the batch being received), as the server said */
  var contextBox = document.getElementById("scan-context");
  var contextText = document.getElementById("scan-context-text");
  var contextHeading = document.getElementById("scan-context-heading");
  var contextProgress = document.getElementById("scan-context-progress");
  var contextLeave = document.getElementById("scan-context-leave");
  var contextMissing = null;
  var hint = document.getElementById("scan-hint");
  var logBox = document.getElementById("scan-log-box");
  var feedbackIcon = feedback.querySelector(".feedback-icon");
  var feedbackLink = document.getElementById("feedback-link");
  var feedbackDismiss = feedback.querySelector(".feedback-dismiss");
  var labelPanel = document.getElementById("label-panel");
  var labelMessage = document.getElementById("label-panel-message");
  var labelFrame = document.getElementById("label-frame");
  var labelPending = null; /* {code, kind, message}: the label to stick on and scan */
  var STORE = "refurb.station." + station;
  var ICONS = { ok: "✔", error: "✘", ask: "?", label: "⎙" };
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
  input.addEventListener("blur", function () {
    setTimeout(function () { if (document.activeElement !== logBox) focusInput(); }, 0);
  });
  /* the log is reachable with Shift+Tab (to read it); a scan typed there still goes to the input */
  logBox.addEventListener("keydown", function (event) {
    if (event.key.length === 1 && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      input.value += event.key;
      focusInput();
    }
  });
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

  /* --- what the station works on (the batch received, the location filled): kept across a reload --- */
  function save() {
    try {
      sessionStorage.setItem(STORE, JSON.stringify({ context: context, label: labelPending }));
    } catch (e) { /* private mode: nothing kept */ }
  }
  function setContext(next, thing) {
    var before = JSON.stringify(context);
    context = next || {};
    var on = Object.keys(context).length > 0;
    if (on && thing && thing.type !== "device") contextText.textContent = thing.display_code + " · " + thing.title;
    contextBox.hidden = !on;
    root.dataset.context = on ? JSON.stringify(context) : "";
    hint.textContent = on ? hint.dataset.next : hint.dataset.first;
    if (!on) contextMissing = null;
    save();
    if (on && (before !== JSON.stringify(context) || thing)) refreshContext();
  }
  /* the stage's own words and live progress (received of declared, places taken of capacity) */
  function refreshContext() {
    var query = new URLSearchParams(context).toString();
    return fetch("/api/v1/stations/" + station + "/context?" + query, {
      credentials: "same-origin", headers: { "accept": "application/json" }
    }).then(function (response) { return response.ok ? response.json() : null; }).then(function (bar) {
      if (!bar) return;
      contextHeading.textContent = bar.heading;
      contextText.textContent = bar.display_code + " · " + bar.title;
      contextProgress.textContent = bar.progress;
      contextLeave.textContent = bar.leave;
      contextMissing = bar.missing;
      root.dataset.progress = bar.done + "/" + (bar.total === null ? "" : bar.total);
    }).catch(function () { /* the bar keeps its last words */ });
  }
  contextLeave.addEventListener("click", function () {
    var missing = contextMissing;
    setContext({});
    hideLabel();
    if (missing) flash("label", messages.missing + " " + missing, { sticky: true, sound: "ask" });
    focusInput();
  });

  /* --- the label to stick on (reception without a printer): shown and printed in the page --- */
  function showLabel(label, message, print) {
    labelPending = { code: label.code, kind: label.kind, message: message };
    labelMessage.textContent = message;
    labelPanel.hidden = false;
    save();
    if (print) printLabel();
  }
  function hideLabel() {
    labelPending = null;
    labelPanel.hidden = true;
    labelFrame.removeAttribute("src");
    save();
  }
  function printLabel() {
    if (!labelPending) return;
    var job = { codes: [labelPending.code], kind: labelPending.kind, station: station };
    window.RefurbPrint.printLabels(job, labelFrame).then(function (result) {
      root.dataset.labelJob = String(result.job.id || "");
      /* (the PDF viewer in the frame has its own print button; printing it from here
         crashes some Chromium builds, so the page does not try) */
      focusInput();
    }, function (problem) {
      labelMessage.textContent = "✘ " + ((problem && (problem.detail || problem.title)) || messages.label_failed);
    });
  }
  document.getElementById("label-print").addEventListener("click", function () { printLabel(); focusInput(); });

  /* --- sound and colour (and an icon: status is never said by colour alone) --- */
  var SOUNDS = {
    ok: [["sine", 1320, 0.12]],
    error: [["square", 220, 0.45]],
    ask: [["triangle", 660, 0.12], ["triangle", 880, 0.12]] /* a person is needed: two rising notes */
  };
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var at = audio.currentTime;
      (SOUNDS[kind] || SOUNDS.ok).forEach(function (note) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = note[0];
        oscillator.frequency.value = note[1];
        gain.gain.value = 0.15;
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + note[2]);
        at += note[2] + 0.05;
      });
    } catch (e) { /* no sound on this device */ }
  }
  function hideFeedback() {
    clearTimeout(feedbackTimer);
    feedback.hidden = true;
  }
  /* options: link {href, text}; sticky (stays until the next scan or a tap); sound */
  function flash(kind, text, options) {
    options = options || {};
    root.dataset.lastResult = kind;
    root.dataset.results = (root.dataset.results ? root.dataset.results + " " : "") + kind;
    if (kind === "ask") { beep("ask"); return; } /* the form itself is the signal; an overlay would hide it */
    var sticky = options.sticky || kind === "error";
    feedback.className = "feedback feedback-" + kind;
    feedbackIcon.textContent = ICONS[kind] || "";
    feedbackText.textContent = text;
    feedbackLink.hidden = !options.link;
    if (options.link) {
      feedbackLink.href = options.link.href;
      feedbackLink.textContent = options.link.text;
    }
    feedbackDismiss.hidden = !sticky;
    feedback.hidden = false;
    clearTimeout(feedbackTimer);
    if (!sticky) feedbackTimer = setTimeout(hideFeedback, kind === "label" ? 1800 : 1200);
    beep(options.sound || (kind === "label" ? "ask" : kind));
  }
  feedback.addEventListener("click", function (event) {
    if (event.target.closest("a")) return;
    hideFeedback();
    focusInput();
  });

  function bindLabelButton(button, label) {
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
  }
  function addLabelButton(item, label, text) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "label-action";
    button.textContent = text || messages.print_label;
    bindLabelButton(button, label);
    item.appendChild(document.createElement("br"));
    item.appendChild(button);
  }
  Array.prototype.forEach.call(log.querySelectorAll("button.label-action"), function (button) {
    bindLabelButton(button, { code: button.dataset.code, kind: button.dataset.kind });
  });

  function addLog(kind, code, text) {
    var item = document.createElement("li");
    item.className = "log-" + kind;
    var icon = document.createElement("span");
    icon.className = "log-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = ICONS[kind] || "";
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.textContent = messages["status_" + kind] || "";
    item.append(icon, status);
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

  /* --- the stage-specific form a handler asks for ---
     Required fields carry a visible mark (with a legend) besides `required`; each section
     folds (<details>), open while it holds a required field still empty; a refused answer
     reopens the form with what was typed and points at the fields the server named. */
  var formError = document.getElementById("scan-form-error");
  var formLegend = document.getElementById("scan-form-legend");
  function isEmpty(control) { return control.type === "checkbox" ? false : !control.value; }
  function requiredNow(control) {
    var when = control.dataset.requiredWhen ? JSON.parse(control.dataset.requiredWhen) : null;
    if (!when) return control.dataset.required === "true";
    return Object.keys(when).every(function (name) {
      var other = form.elements.namedItem(name);
      return other && when[name].indexOf(other.value) >= 0;
    });
  }
  function refreshRequired() {
    Array.prototype.forEach.call(formFields.querySelectorAll("input, select"), function (control) {
      var needed = requiredNow(control);
      control.required = needed;
      control.setAttribute("aria-required", needed ? "true" : "false");
      var mark = control.closest("label").querySelector(".required-mark");
      if (mark) mark.hidden = !needed;
    });
    Array.prototype.forEach.call(formFields.querySelectorAll("details.form-section"), function (section) {
      var controls = Array.prototype.slice.call(section.querySelectorAll("input, select"));
      var needed = controls.filter(function (c) { return c.required; });
      var left = needed.filter(isEmpty).length;
      var count = section.querySelector(".section-left");
      if (!needed.length) count.textContent = " · " + messages.optional;
      else count.textContent = left ? " · " + messages.to_fill.replace("{count}", left) : " ✔";
      section.classList.toggle("section-done", needed.length > 0 && !left);
    });
  }
  function openSectionsToFill() {
    Array.prototype.forEach.call(formFields.querySelectorAll("details.form-section"), function (section) {
      section.open = Array.prototype.some.call(section.querySelectorAll("input, select"), function (c) {
        return c.required && isEmpty(c);
      });
    });
  }
  function buildControl(field) {
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
    control.id = "field-" + field.name;
    control.dataset.required = field.required ? "true" : "false";
    if (field.required_when) control.dataset.requiredWhen = JSON.stringify(field.required_when);
    if (field.type === "number") {
      control.step = "any";
      if (field.minimum !== null && field.minimum !== undefined) control.min = field.minimum;
      if (field.maximum !== null && field.maximum !== undefined) control.max = field.maximum;
    }
    if (field.default !== null && field.default !== undefined) {
      if (field.type === "checkbox") control.checked = field.default === "true";
      else control.value = field.default;
    }
    return control;
  }
  function openForm(answer, scanned, typed, refusal) {
    pending = { text: scanned, action: answer.form.action, answer: answer };
    formTitle.textContent = answer.form.title;
    formSubmit.textContent = answer.form.submit;
    formFields.textContent = "";
    var where = null;
    var anyRequired = false;
    answer.form.fields.forEach(function (field) {
      if (field.section || !where) {
        var box = formFields;
        if (field.section) {
          box = document.createElement("details");
          box.className = "form-section";
          var summary = document.createElement("summary");
          var title = document.createElement("span");
          title.textContent = field.section;
          var left = document.createElement("span");
          left.className = "section-left";
          summary.append(title, left);
          box.appendChild(summary);
          formFields.appendChild(box);
        }
        where = document.createElement("div");
        where.className = "form-grid";
        box.appendChild(where);
      }
      var label = document.createElement("label");
      label.className = "field field-" + field.type;
      var text = document.createElement("span");
      text.className = "field-label";
      text.textContent = field.label;
      var control = buildControl(field);
      if (field.required || field.required_when) {
        anyRequired = true;
        var mark = document.createElement("span");
        mark.className = "required-mark";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = " *";
        text.appendChild(mark);
      }
      if (field.type === "checkbox") label.append(control, text);
      else label.append(text, control);
      if (field.help) {
        var help = document.createElement("small");
        help.className = "help";
        help.id = "help-" + field.name;
        help.textContent = field.help;
        control.setAttribute("aria-describedby", help.id);
        label.appendChild(help);
      }
      where.appendChild(label);
    });
    formLegend.hidden = !anyRequired;
    if (typed) {
      Object.keys(typed).forEach(function (name) {
        var control = form.elements.namedItem(name);
        if (!control || !control.tagName) return;
        if (control.type === "checkbox") control.checked = typed[name] === true;
        else control.value = typed[name];
      });
    }
    refreshRequired();
    openSectionsToFill();
    formError.hidden = !refusal;
    formError.textContent = refusal ? "✘ " + refusal.text : "";
    if (refusal && refusal.link) {
      var more = document.createElement("a");
      more.href = refusal.link.href;
      more.textContent = refusal.link.text;
      formError.append(" ", more);
    }
    var wrong = [];
    ((refusal && refusal.fields) || []).forEach(function (name) {
      var control = form.elements.namedItem(name);
      if (!control || !control.tagName) return;
      control.setAttribute("aria-invalid", "true");
      control.closest("label").classList.add("invalid");
      var section = control.closest("details");
      if (section) section.open = true;
      wrong.push(control);
    });
    form.hidden = false;
    document.dispatchEvent(new CustomEvent("refurb:form-opened", { detail: { form: form, action: pending.action } }));
    form.scrollIntoView({ block: "start" }); /* the form fills the screen, its title at the top */
    if (wrong.length) { wrong[0].focus({ preventScroll: true }); wrong[0].scrollIntoView({ block: "center" }); return; }
    /* the first field still to fill; when every field has its value, Enter on the button confirms */
    var controls = Array.prototype.slice.call(formFields.querySelectorAll("input, select"));
    var empty = controls.filter(function (c) {
      var section = c.closest("details");
      return c.type !== "checkbox" && !c.value && (!section || section.open);
    })[0];
    (empty || formSubmit).focus({ preventScroll: true });
  }
  formFields.addEventListener("change", function (event) {
    var control = event.target;
    if (control.getAttribute("aria-invalid") === "true") {
      control.removeAttribute("aria-invalid");
      control.closest("label").classList.remove("invalid");
    }
    refreshRequired();
  });
  form.addEventListener("refurb:changed", refreshRequired);
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
    send(answering.text, answering.action, inputs, answering.answer);
  });
  /* the browser refuses an empty required field: open its folded section so it can show where */
  form.addEventListener("invalid", function (event) {
    var section = event.target.closest && event.target.closest("details");
    if (section) section.open = true;
  }, true);
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

  /* a scan is queued where it was read; one request at a time, so answers come in reading order */
  function send(text, action, inputs, asked) {
    queue.push({ text: text, action: action, inputs: inputs || {}, asked: asked || null, key: newKey(), tries: 0 });
    pump();
  }
  function pump() {
    if (sending || !queue.length || queue[0].waiting) return;
    sending = true;
    root.classList.add("busy");
    var item = queue[0];
    var body = { station: station, text: item.text, inputs: item.inputs, context: context };
    if (item.action !== primary) body.action = item.action;
    fetch("/api/v1/scans", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrftoken": csrf, "idempotency-key": item.key },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, status: response.status, answer: answer }; });
    }).then(function (reply) {
      var transient = !reply.ok && (reply.answer.code === "device_busy" || reply.answer.code === "idempotency_in_flight");
      if (transient && item.tries < RETRIES) return retry(item); /* busy: the same scan again, first in line */
      queue.shift();
      answered(item, reply);
    }, function () {
      if (item.tries < RETRIES) return retry(item); /* no answer: the same key again, nothing is done twice */
      queue.shift();
      flash("error", messages.network, { sticky: true });
      addLog("error", item.text, messages.network);
    }).then(function () {
      sending = false;
      root.classList.toggle("busy", queue.length > 0);
      if (queue.length && !queue[0].waiting) pump();
    });
  }
  function retry(item) {
    item.tries += 1;
    item.waiting = true;
    setTimeout(function () { item.waiting = false; pump(); }, 150 * item.tries);
  }
  function answered(item, reply) {
    var text = item.text;
    var answer = reply.answer;
    if (reply.ok) setContext(answer.context, answer.thing);
    if (!reply.ok && item.asked && (reply.status === 400 || reply.status === 422) && form.hidden && !pending) {
      /* a refused form: back with what was typed, the reason inside it, the wrong fields marked */
      var reason = answer.detail || answer.title;
      root.dataset.lastResult = "error";
      root.dataset.results = (root.dataset.results ? root.dataset.results + " " : "") + "error";
      beep("error");
      addLog("error", text, reason);
      openForm(item.asked, text, item.inputs, { text: reason, fields: answer.fields || [], link: answer.link });
    } else if (!reply.ok) {
      var why = answer.detail || answer.title;
      flash("error", why, { link: answer.link });
      var failed = addLog("error", text, why);
      if (answer.label) addLabelButton(failed, answer.label);
    } else if (answer.result === "needs_input") {
      flash("ask", answer.message);
      addLog("ask", answer.thing.display_code, answer.message);
      openForm(answer, text);
    } else if (answer.result === "needs_label") {
      flash("label", answer.message);
      var item = addLog("label", answer.thing.display_code, answer.message);
      addLabelButton(item, answer.label);
      showLabel(answer.label, answer.message, true);
    } else {
      if (labelPending && answer.device && answer.device.code === labelPending.code) hideLabel();
      var note = "";
      if (answer.printed && answer.printed.error) note = " · " + answer.printed.error;
      else if (answer.printed) note = " · " + messages.printed + " " + (answer.printed.printer || "PDF");
      flash("ok", answer.message + note);
      var done = addLog("ok", answer.thing.display_code, answer.message + note);
      if (answer.reprint) addLabelButton(done, answer.reprint, messages.reprint);
      if (answer.secret) showSecret(answer.secret);
    }
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
    if (feedback.className.indexOf("feedback-error") >= 0 || feedback.className.indexOf("feedback-label") >= 0) {
      hideFeedback(); /* the next scan clears what stayed */
    }
    if (read.kind === "error") {
      var text = messages[read.code] || messages.bad_check_digit;
      flash("error", text);
      addLog("error", raw.trim(), text);
      return;
    }
    send(read.kind === "code" ? read.compact : read.text, mode);
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "Tab" && event.shiftKey) return; /* a person leaving the input (to the log) */
    if (event.key === "Enter" || event.key === "Tab" || event.key === "\u0004") {
      event.preventDefault();
      var raw = input.value;
      input.value = "";
      handle(raw); /* read now, in order; sent when the scans before it are answered */
    }
  });

  /* a reload keeps what the station worked on, and the label still to stick on */
  try {
    var kept = JSON.parse(sessionStorage.getItem(STORE) || "null");
    if (kept && kept.context && Object.keys(kept.context).length) setContext(kept.context, null);
    if (kept && kept.label) showLabel(kept.label, kept.label.message, false);
  } catch (e) { /* nothing kept */ }

  focusInput();
  setInterval(showReady, 1000);
})();
