/* Starts the report form's WebAssembly module and carries the few messages
   the partner page may see (close, Escape, quick exit). That a report was
   sent is never told to the page: any script on it could listen. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rl-config").textContent);
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
  if (typeof WebAssembly !== "object" || typeof Go !== "function") return fail();
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(cfg.module), go.importObject)
    .then(function (r) { return go.run(r.instance); })
    .catch(fail);
})();
