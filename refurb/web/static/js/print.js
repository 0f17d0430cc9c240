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
  /* Resolves to {job, printer} or rejects with a problem {detail, code}. */
  function printLabels(body) {
    return fetch("/api/v1/labels/print-jobs", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrftoken": csrf(), "idempotency-key": key() },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (!response.ok) {
        return response.json().then(function (problem) { throw problem; });
      }
      if (type.indexOf("json") >= 0) {
        return response.json().then(function (job) { return { job: job, printer: job.printer }; });
      }
      var name = (response.headers.get("content-disposition") || "").split("filename=")[1] || "labels";
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = document.createElement("a");
        link.href = url;
        if (type.indexOf("pdf") >= 0) { link.target = "_blank"; } else { link.download = name.replace(/"/g, ""); }
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        return { job: { id: Number(response.headers.get("x-print-job")) }, printer: null };
      });
    });
  }
  global.RefurbPrint = { printLabels: printLabels };
})(window);
