// A partner page's own script. It listens for the widget's public event;
// it never sees what was typed.
document.addEventListener("reportline:submitted", function () {
  document.getElementById("partner-status").textContent = "Thank you for reporting.";
});
