// Updates the national list as the user types. The form works without this script: it is a GET form.
(function () {
  "use strict";
  var form = document.querySelector("[data-live-search]");
  var results = document.getElementById("results");
  var status = document.getElementById("live-status");
  if (!form || !results || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var timer = null;
  var controller = null;

  function queryString() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") {
        params.append(name, value);
      }
    });
    return params.toString();
  }

  function update() {
    var query = queryString();
    if (controller) {
      controller.abort();
    }
    controller = window.AbortController ? new AbortController() : null;
    var url = form.dataset.resultsUrl + (query ? "?" + query : "");
    fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        results.innerHTML = html;
        window.history.replaceState(null, "", form.getAttribute("action") + (query ? "?" + query : ""));
        var count = results.querySelector("[data-count-text]");
        if (status && count) {
          status.textContent = count.textContent.replace(/\s+/g, " ").trim();
        }
      })
      .catch(function () { /* A newer search replaced this one, or the network failed: the form still works. */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
