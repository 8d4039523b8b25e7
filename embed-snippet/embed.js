/* reportline embed loader: draws the report button and opens the hotline's
   form in a cross-origin frame. See docs/site-owners.md. */
(function () {
  "use strict";
  var s = document.currentScript;
  if (!s || !s.src || window.reportline) return;
  var relay = new URL(s.src).origin;
  var d = s.dataset;
  var site = d.site;
  function warn(m) { console.warn("reportline: " + m); }
  if (!site) return warn('add data-site="YOUR-SITE-ID" to the embed script');
  var color = "#b00020";
  if (d.color) {
    if (/^#[0-9a-f]{6}$/i.test(d.color) && contrast(d.color) >= 4.5) color = d.color;
    else warn("data-color must be #rrggbb with white text readable on it (contrast 4.5:1); ignored");
  }
  var pos = "bottom-right";
  if (d.position) {
    if (/^(bottom|top)-(left|right)$/.test(d.position)) pos = d.position;
    else warn("data-position must be bottom-right, bottom-left, top-right or top-left; ignored");
  }
  var target = null;
  if (d.target) {
    target = document.getElementById(d.target);
    if (!target) warn('data-target: no element with id "' + d.target + '"; the button floats instead');
  }
  var label = "Report child sexual abuse";
  if (d.label != null) {
    if (/^.{1,60}$/.test(d.label.trim())) label = d.label.trim();
    else warn("data-label must be 1 to 60 characters; ignored");
  }
  var locale = d.locale || "";
  if (locale && !/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i.test(locale)) {
    warn("data-locale must be a language tag such as de or fr-CA; ignored");
    locale = "";
  }
  var p = pos.split("-");
  var host = document.createElement("div");
  var root = host.attachShadow({ mode: "closed" });
  // !important: the page's rules for the host (div:empty, say) beat normal ones.
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(":host{all:initial!important;display:inline-block!important" + (target ? "" :
    ";position:fixed!important;z-index:2147483000!important;" + p[0] + ":16px!important;" + p[1] + ":16px!important") + "}" +
    "button{font:600 16px/1.2 system-ui,sans-serif;min-height:44px;padding:12px 18px;border:2px solid #fff;" +
    "border-radius:24px;background:" + color + ";color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    "button:focus-visible{outline:3px solid #000;outline-offset:2px}" +
    "dialog{padding:0;border:0;border-radius:8px;width:min(640px,100vw);max-width:100vw;height:min(90vh,900px);max-height:100dvh}" +
    "dialog::backdrop{background:rgba(0,0,0,.6)}iframe{border:0;width:100%;height:100%;display:block}" +
    "@media (forced-colors:active){button{border-color:ButtonText}}");
  root.adoptedStyleSheets = [sheet];
  var btn = document.createElement("button");
  btn.type = "button";
  btn.textContent = label;
  var dlg = document.createElement("dialog");
  dlg.setAttribute("aria-label", label);
  root.append(btn, dlg);
  var frame = null, loaded = false;

  function emit(name) { document.dispatchEvent(new CustomEvent("reportline:" + name)); }
  // prepare makes the frame on the first sign of intent, so the form is
  // ready by the click; before that the page makes no request to us.
  function prepare() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = label;
    // The page's address, path and query, is none of the relay's business.
    frame.referrerPolicy = "no-referrer";
    // A message sent before the form has loaded would reach the blank
    // document the frame starts with, and be lost.
    frame.addEventListener("load", function () { loaded = true; if (dlg.open) opened(); });
    frame.src = relay + "/w/" + encodeURIComponent(site) + "?o=" + encodeURIComponent(location.origin) +
      "&l=" + encodeURIComponent([locale].concat(navigator.languages || []).filter(Boolean).join(","));
    dlg.append(frame);
    // Tell the site owner, in the console, if this page is not registered.
    fetch(relay + "/v1/sites/" + encodeURIComponent(site) + "/embed", { credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function (r) {
        return r.json().then(function (p) {
          if (!r.ok) return warn(p.detail || p.title);
          // The operator's colour, where the page set none: a colour
          // changes no layout, so it can still come now.
          var c = p.theme && p.theme.color;
          if (!d.color && /^#[0-9a-f]{6}$/i.test(c || "") && contrast(c) >= 4.5) btn.style.background = c;
          var l = locale.toLowerCase();
          if (l && p.locales && p.locales.indexOf(l) < 0 && p.locales.indexOf(l.split("-")[0]) < 0) {
            warn("data-locale: the form is not available in " + locale + " (only " + p.locales.join(", ") +
              "); the visitor's languages decide");
          }
        });
      })
      .catch(function () { warn("the relay at " + relay + " cannot be reached, or this page's origin is not registered"); });
  }
  function open() {
    prepare();
    if (dlg.open) return;
    dlg.showModal();
    frame.focus();
    if (loaded) opened();
    emit("open");
  }
  // Focus the frame anew: a focus given to its first, blank document goes
  // back to this page when the form replaces it, and the form may not take
  // it by itself.
  function opened() { frame.blur(); frame.focus(); frame.contentWindow.postMessage({ type: "rl:opened" }, relay); }
  function close() { if (dlg.open) dlg.close(); }
  ["pointerenter", "focus", "touchstart"].forEach(function (e) {
    btn.addEventListener(e, prepare, { once: true, passive: true });
  });
  btn.addEventListener("click", open);
  dlg.addEventListener("close", function () { btn.focus(); emit("close"); });
  window.addEventListener("message", function (e) {
    if (e.origin !== relay || !frame || e.source !== frame.contentWindow) return;
    var t = e.data && e.data.type;
    if (t === "rl:close") close();
  });
  window.reportline = { open: open, close: close };
  function attach() { (target || document.body).append(host); }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);

  function contrast(hex) {
    var n = parseInt(hex.slice(1), 16), l = 0;
    [16, 8, 0].forEach(function (sh, i) {
      var c = (n >> sh & 255) / 255;
      c = c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
      l += c * [0.2126, 0.7152, 0.0722][i];
    });
    return 1.05 / (l + 0.05);
  }
})();
