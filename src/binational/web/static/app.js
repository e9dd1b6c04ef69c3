// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Refuse a file that is over the limit before uploading it.
  function guardUpload() {
    var form = document.getElementById("batch-form");
    if (!form) return;
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    var input = form.querySelector("input[type=file]");
    var warning = document.getElementById("file-too-large");
    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (file && limit && file.size > limit) {
        event.preventDefault();
        warning.hidden = false;
        input.focus();
      } else {
        warning.hidden = true;
      }
    });
  }

  // Poll a batch screening's progress and show the download link when it is done.
  function followBatch() {
    var box = document.getElementById("batch");
    if (!box) return;
    var url = box.getAttribute("data-status-url");
    var bar = document.getElementById("batch-progress");
    var message = document.getElementById("batch-message");
    var download = document.getElementById("batch-download");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
        .then(function (res) {
          var ok = res[0], body = res[1];
          if (!ok) { message.textContent = (body.error && body.error.message) || ""; return; }
          bar.max = body.total; bar.value = body.done;
          if (message.textContent !== body.message) message.textContent = body.message;
          box.setAttribute("data-status", body.status);
          if (body.status === "done") { download.hidden = false; return; }
          if (body.status !== "failed") setTimeout(tick, 700);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    var status = box.getAttribute("data-status");
    if (status === "queued" || status === "running") tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    guardUpload();
    followBatch();
  });
})();
