/* Print jobs from the browser: POST /api/v1/labels/print-jobs, then either the
   printer took it (JSON) or the PDF/ZPL comes back to print from here. */
(function (global) {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function key() {
    return global.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }
  /* Open the tab for a PDF *during* the click: opened after the request, a popup
     blocker would stop it. Returns null when a printer will take the job. */
  function pdfTab(body) {
    return body.printer ? null : window.open("", "_blank");
  }
  /* Resolves to {job, printer} or rejects with a problem {detail, code}. `tab` is a
     window opened for the PDF, or an <iframe> to show it in the page (a station). */
  function printLabels(body, tab) {
    var frame = tab && tab.tagName === "IFRAME" ? tab : null;
    if (frame) tab = { close: function () {}, location: {} };
    return fetch("/api/v1/labels/print-jobs", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrftoken": csrf(), "idempotency-key": key() },
      body: JSON.stringify(body)
    }).catch(function (error) {
      if (tab) tab.close();
      throw error;
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (!response.ok) {
        if (tab) tab.close();
        return response.json().then(function (problem) { throw problem; });
      }
      if (type.indexOf("json") >= 0) {
        if (tab) tab.close();
        return response.json().then(function (job) { return { job: job, printer: job.printer }; });
      }
      var name = (response.headers.get("content-disposition") || "").split("filename=")[1] || "labels";
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        if (frame && type.indexOf("pdf") >= 0) {
          frame.src = url;
          return { job: { id: Number(response.headers.get("x-print-job")) }, printer: null, frame: frame };
        }
        if (tab && type.indexOf("pdf") >= 0) {
          tab.location.href = url;
        } else {
          if (tab) tab.close();
          var link = document.createElement("a");
          link.href = url;
          link.download = name.replace(/"/g, "");
          document.body.appendChild(link);
          link.click();
          link.remove();
        }
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        return { job: { id: Number(response.headers.get("x-print-job")) }, printer: null };
      });
    });
  }
  global.RefurbPrint = { printLabels: printLabels, pdfTab: pdfTab };
})(window);
