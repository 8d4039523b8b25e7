/* reportline embed loader: draws the report button and opens the hotline's
   form in a cross-origin frame. See docs/site-owners.md. */
(function () {
  "use strict";
  var s = document.currentScript;
  if (!s || !s.src) return;
  var relay = new URL(s.src).origin;
  var d = s.dataset;
  var site = d.site;
  if (!site) {
    console.warn("reportline: add data-site=\"YOUR-SITE-ID\" to the embed script");
    return;
  }
  var host = document.createElement("div");
  var root = host.attachShadow({ mode: "closed" });
  var css = ":host{all:initial;position:fixed;z-index:2147483000;bottom:16px;right:16px}" +
    "button{font:600 16px/1.2 system-ui,sans-serif;padding:12px 18px;border:2px solid #fff;border-radius:24px;" +
    "background:var(--rl-color,#b00020);color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    "button:focus-visible{outline:3px solid #000;outline-offset:2px}" +
    "dialog{padding:0;border:0;border-radius:8px;width:min(640px,100vw);max-width:100vw;height:min(90vh,900px);max-height:100vh}" +
    "dialog::backdrop{background:rgba(0,0,0,.6)}iframe{border:0;width:100%;height:100%;display:block}" +
    "@media (forced-colors:active){button{border-color:ButtonText}}";
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  root.adoptedStyleSheets = [sheet];
  var btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = d.label || "Report child sexual abuse";
  var dlg = document.createElement("dialog");
  dlg.setAttribute("aria-label", btn.textContent);
  root.append(btn, dlg);
  var frame = null;

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = btn.textContent;
      var q = "?o=" + encodeURIComponent(location.origin) +
        "&l=" + encodeURIComponent(d.locale || navigator.language || "");
      frame.src = relay + "/w/" + encodeURIComponent(site) + q;
      dlg.append(frame);
    }
    dlg.showModal();
    frame.focus();
  }
  btn.addEventListener("click", open);
  dlg.addEventListener("close", function () { btn.focus(); });
  window.addEventListener("message", function (e) {
    if (e.origin !== relay || !frame || e.source !== frame.contentWindow) return;
    var t = e.data && e.data.type;
    if (t === "rl:close") dlg.close();
    if (t === "rl:submitted") host.dispatchEvent(new CustomEvent("reportline:submitted", { bubbles: true }));
  });
  function attach() { document.body.append(host); }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
})();
