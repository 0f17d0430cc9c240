/* Refurb codes in the browser: the same reading as refurb/core/codes.py, so a
   misread is refused before anything is sent. */
(function (global) {
  "use strict";
  var DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0]
  ];
  var TYPE_INDEX = { D: 1, B: 2, L: 3, F: 4, R: 5, C: 6, S: 7 };
  var LETTERS = "DBLFRCS";
  var AZERTY = { "&": "1", "é": "2", "\"": "3", "'": "4", "(": "5", "-": "6", "è": "7", "_": "8", "ç": "9", "à": "0" };
  var AZERTY_CODE = new RegExp("^[" + LETTERS + LETTERS.toLowerCase() + "][&é\"'(\\-è_çà]{8}$");
  var COMPACT = /^[A-Z][0-9]{8}$/;
  var OURS = new RegExp("^[" + LETTERS + "][0-9]{8}$");

  function damm(digits) {
    var interim = 0;
    for (var i = 0; i < digits.length; i++) interim = DAMM[interim][digits.charCodeAt(i) - 48];
    return interim;
  }

  function clean(text) { return text.replace(/[\x00-\x1f\x7f]/g, "").trim(); }

  function fromUrl(text) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\//.test(text) && text.charAt(0) !== "/") return null;
    try {
      var segments = new URL(text, "http://localhost").pathname.split("/").filter(Boolean);
      return segments.length ? decodeURIComponent(segments[segments.length - 1]) : "";
    } catch (e) { return ""; }
  }

  function compact(text) {
    if (AZERTY_CODE.test(text)) {
      text = text.charAt(0) + text.slice(1).split("").map(function (c) { return AZERTY[c]; }).join("");
    }
    return text.replace(/[\s-]+/g, "").toUpperCase();
  }

  function check(value) {
    var letter = value.charAt(0);
    if (!(letter in TYPE_INDEX)) return { kind: "error", code: "unknown_code_type" };
    if (damm(String(TYPE_INDEX[letter]) + value.slice(1)) !== 0) return { kind: "error", code: "bad_check_digit" };
    return { kind: "code", compact: value, display: value.slice(0, 1) + "-" + value.slice(1, 8) + "-" + value.slice(8) };
  }

  /* {kind: "code", compact, display} | {kind: "alias", text} | {kind: "error", code} | {kind: "empty"} */
  function read(text) {
    var cleaned = clean(text);
    if (!cleaned) return { kind: "empty" };
    var segment = fromUrl(cleaned);
    if (segment !== null) {
      var value = compact(segment);
      return COMPACT.test(value) ? check(value) : { kind: "error", code: "malformed_code" };
    }
    var candidate = compact(cleaned);
    if (OURS.test(candidate)) return check(candidate);
    return { kind: "alias", text: cleaned };
  }

  global.RefurbCodes = { read: read, damm: damm };
})(window);
