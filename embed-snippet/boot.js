/* Starts the report form's WebAssembly module and carries the few messages
   the partner page may see (close, submitted; never content). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rl-config").textContent);
  var form = document.getElementById("rl-form");
  var status = document.getElementById("rl-status");
  function post(type) {
    if (window.parent !== window && cfg.parentOrigin) {
      window.parent.postMessage({ type: type }, cfg.parentOrigin);
    }
  }
  // Until the module has started, a submit waits; the module sends it then.
  form.addEventListener("submit", function (e) {
    if (form.dataset.state === "ready") return;
    e.preventDefault();
    form.dataset.pending = "1";
    status.textContent = status.dataset.loading;
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") post("rl:close");
  });
  document.getElementById("rl-close").addEventListener("click", function () { post("rl:close"); });
  form.addEventListener("rl:submitted", function () { post("rl:submitted"); });
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(cfg.module), go.importObject)
    .then(function (r) { return go.run(r.instance); })
    .catch(function () {
      form.dataset.state = "failed";
      status.textContent = status.dataset.failed;
    });
})();
