/* Starts the report form's WebAssembly module and carries the few messages
   the partner page may see (close, Escape, quick exit). That a report was
   sent is never told to the page: any script on it could listen. */
(function () {
  "use strict";
  var conf = document.getElementById("rl-config");
  var cfg = JSON.parse(conf.textContent);
  // A frame the hotline publishes (`hotline publish`) is one page per
  // language for every site: the loader gives the site, the partner
  // page's origin and the languages in the frame's address. The language
  // picks the page; the site goes into the relay's addresses.
  if (cfg.relay) {
    var q = new URLSearchParams(location.search);
    var loc = pickLocale(q.get("l") || "", Object.keys(cfg.messages));
    if (loc && loc !== cfg.locale) return location.replace(loc + ".html" + location.search);
    var o = q.get("o") || "";
    cfg.site = q.get("s") || "";
    cfg.parentOrigin = /^https?:\/\/[^\/?#]+$/.test(o) ? o : "";
    ["endpoint", "challenge", "mailbox"].forEach(function (k) {
      if (cfg[k]) cfg[k] = cfg[k].split("{site}").join(encodeURIComponent(cfg.site));
    });
    conf.textContent = JSON.stringify(cfg);
  }
  var msg = JSON.parse(document.getElementById("rl-messages").textContent);
  var form = document.getElementById("rl-form");
  var status = document.getElementById("rl-status");
  function post(type) {
    if (window.parent !== window && cfg.parentOrigin) {
      window.parent.postMessage({ type: type }, cfg.parentOrigin);
    }
  }
  function fail() {
    form.dataset.state = "failed";
    status.textContent = msg["form.failed"];
    document.getElementById("rl-nowasm").hidden = false;
  }
  // Until the module has started, a submit waits; the module sends it then.
  form.addEventListener("submit", function (e) {
    if (form.dataset.state === "ready") return;
    e.preventDefault();
    if (form.dataset.state === "failed") return;
    form.dataset.pending = "1";
    status.textContent = msg["form.loading"];
  });
  // Escape closes the form; pressed once more on the page, it is a quick
  // exit (see the loader).
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") post("rl:escape");
  });
  // Quick exit: clear what was typed, and have the page leave. A form
  // that is not in a partner's page leaves itself.
  document.getElementById("rl-exit").addEventListener("click", function () {
    form.reset();
    if (window.parent !== window && cfg.parentOrigin) post("rl:exit");
    else location.replace("about:blank");
  });
  window.addEventListener("message", function (e) {
    if (e.origin === cfg.parentOrigin && e.data && e.data.type === "rl:opened") {
      document.getElementById("rl-title").focus();
    }
  });
  document.getElementById("rl-close").addEventListener("click", function () { post("rl:close"); });
  // Nothing listens to the language menu until the module is ready: a
  // language picked before is applied then. "I have a receipt code" does
  // nothing until then either: it is shown then.
  var lang = document.getElementById("rl-lang");
  var haveCode = document.querySelector(".have-code");
  new MutationObserver(function (_, seen) {
    if (form.dataset.state === "loading") return;
    seen.disconnect();
    if (form.dataset.state !== "ready") return;
    if (haveCode) haveCode.hidden = false;
    if (!lang.options[lang.selectedIndex].defaultSelected) lang.dispatchEvent(new Event("change"));
  }).observe(form, { attributes: true, attributeFilter: ["data-state"] });
  if (typeof WebAssembly !== "object" || typeof Go !== "function") return fail();
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(cfg.module), go.importObject)
    .then(function (r) { return go.run(r.instance); })
    .catch(fail);

  // pickLocale returns the page for the first of the wanted language tags
  // that has one, the tag's own or its language's ("pt" for "pt-PT"), or
  // "" for none. The relay (frame.PickLocale) also knows catalogues for
  // groups of regions ("es-419"); there are none yet.
  function pickLocale(tags, have) {
    var lower = have.map(function (h) { return h.toLowerCase(); });
    var wanted = tags.split(",");
    for (var i = 0; i < wanted.length; i++) {
      var w = wanted[i].split(";")[0].trim().toLowerCase();
      var j = w ? lower.indexOf(w) : -1;
      if (j < 0 && w) j = lower.indexOf(w.split("-")[0]);
      if (j >= 0) return have[j];
    }
    return "";
  }
})();
