// Small progressive enhancements; every page works without this file.
// When an htmx request fails (server error, body too large, network down) htmx swaps nothing, so say so.
(function () {
  "use strict";
  function showProblem(text) {
    var banner = document.getElementById("request-problem");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "request-problem";
      banner.className = "request-problem";
      banner.setAttribute("role", "alert");
      document.body.appendChild(banner);
    }
    banner.textContent = text;
    banner.hidden = false;
    window.setTimeout(function () { banner.hidden = true; }, 8000);
  }
  function message(event) {
    var zh = document.documentElement.lang === "zh-CN";
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 413) { return zh ? "提交的内容过大。" : "The request is too large."; }
    if (status === 0) { return zh ? "无法连接服务器，请检查网络后重试。" : "Cannot reach the server; check the connection and try again."; }
    return zh ? "出错了，请稍后再试（" + status + "）。" : "Something went wrong (" + status + "); please try again.";
  }
  // An evaluation with errors swaps the form back in; its summary is at the top, often far above the button
  // pressed, so move there. Only a summary just swapped in: a later swap inside the form leaves the focus alone.
  var shownSummary = document.getElementById("error-summary");
  document.addEventListener("htmx:afterSettle", function () {
    var summary = document.getElementById("error-summary");
    if (summary && summary !== shownSummary) { summary.focus(); }
    shownSummary = summary;
  });
  document.addEventListener("htmx:responseError", function (event) { showProblem(message(event)); });
  document.addEventListener("htmx:sendError", function (event) { showProblem(message(event)); });
})();
