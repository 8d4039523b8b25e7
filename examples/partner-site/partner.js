// A partner page's own script. The loader tells the page when the report
// dialog opens and closes, and nothing about a report: not even that one
// was sent, since any script on the page could listen.
["open", "close"].forEach(function (name) {
  document.addEventListener("reportline:" + name, function () {
    document.body.dataset.reportDialog = name;
  });
});
