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
  if (!site) return warn('data-site missing: add data-site="YOUR-SITE-ID"');
  // The form's page: the relay's, or the one the hotline serves itself
  // (data-frame, from the hotline), which the page chooses, not the relay.
  var page = d.frame || relay + "/w/" + encodeURIComponent(site), fo = new URL(page).origin;
  var color = "#b00020";
  if (d.color) {
    if (readable(d.color)) color = d.color;
    else warn("data-color ignored: want #rrggbb, 4.5:1 contrast with white");
  }
  var pos = "bottom-right";
  if (d.position) {
    if (/^(bottom|top)-(left|right)$/.test(d.position)) pos = d.position;
    else warn("data-position ignored: want (bottom|top)-(left|right)");
  }
  var target = null;
  if (d.target) {
    target = document.getElementById(d.target);
    if (!target) warn("data-target ignored: no element #" + d.target);
  }
  // Every language's button label (the form's title), filled in by the
  // relay: the button speaks the language the form will open in.
  var labels = { en: "Report child sexual abuse" };
  function pick(t) { t = t.toLowerCase(); return labels[t] || labels[t.split("-")[0]]; }
  var locale = d.locale || "";
  if (locale && !pick(locale)) {
    warn("data-locale ignored: the form speaks " + Object.keys(labels));
    locale = "";
  }
  var langs = [locale].concat(navigator.languages || []).filter(Boolean);
  var label = langs.map(pick).filter(Boolean)[0] || labels.en;
  if (d.label != null) {
    if (/^.{1,60}$/.test(d.label.trim())) label = d.label.trim();
    else warn("data-label ignored: want 1 to 60 characters");
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
    // k: the hotline's key, which the form checks the hotline's signed
    // key statement against; it comes from the hotline, not the relay.
    frame.src = page + "?" + new URLSearchParams({ s: site, o: location.origin, l: langs, k: d.hotlineKey || "" });
    dlg.append(frame);
    // Tell the site owner, in the console, if this page is not registered.
    fetch(relay + "/v1/sites/" + encodeURIComponent(site) + "/embed", { credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function (r) {
        return r.json().then(function (p) {
          if (!r.ok) return warn(p.detail || p.title);
          // The operator's colour, where the page set none: a colour
          // changes no layout, so it can still come now.
          var c = p.theme && p.theme.color;
          if (!d.color && readable(c)) btn.style.background = c;
        });
      })
      .catch(function () { warn("cannot reach " + relay + ", or this origin is not registered"); });
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
  function opened() { frame.blur(); frame.focus(); frame.contentWindow.postMessage({ type: "rl:opened" }, fo); }
  function close() { if (dlg.open) dlg.close(); }
  ["pointerenter", "focus", "touchstart"].forEach(function (e) {
    btn.addEventListener(e, prepare, { once: true, passive: true });
  });
  btn.addEventListener("click", open);
  dlg.addEventListener("close", function () { btn.focus(); emit("close"); });
  // Quick exit: the form's button, or Escape twice (once in the form, which
  // closes it, and once more here), leaves for a neutral address with
  // location.replace, so that Back does not come back to the form.
  var exit = new URL(d.exit || "/", location), armed;
  if (!/^https?:$/.test(exit.protocol)) warn("data-exit ignored: want http(s)"), exit = "/";
  function leave() { frame && frame.remove(); frame = 0; close(); location.replace(exit); }
  addEventListener("keydown", function (e) { armed = armed && e.key == "Escape" && leave(); }, true);
  addEventListener("pointerdown", function () { armed = 0; }, true);
  addEventListener("message", function (e) {
    var t = frame && e.origin == fo && e.source == frame.contentWindow && e.data.type;
    if (t == "rl:exit" || armed && t == "rl:escape") leave();
    else if (t == "rl:close" || t == "rl:escape") armed = t == "rl:escape", close();
  });
  window.reportline = { open: open, close: close };
  function attach() { (target || document.body).append(host); }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);

  // readable: a #rrggbb colour on which white text has a contrast of
  // 4.5:1 or more (WCAG AA).
  function readable(hex) {
    if (!/^#[0-9a-f]{6}$/i.test(hex)) return false;
    var n = parseInt(hex.slice(1), 16), l = 0.05;
    [0.0722, 0.7152, 0.2126].forEach(function (w, i) {
      var c = (n >> 8 * i & 255) / 255;
      l += w * (c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    });
    return 1.05 / l >= 4.5;
  }
})();
