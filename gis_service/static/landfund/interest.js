/* Sends the expression-of-interest form to the API with the investor's bearer token (kept in this tab only). */
(function () {
  "use strict";
  var form = document.getElementById("interest");
  if (!form) { return; }
  var en = form.dataset.lang === "en";
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    var body = { parcel_id: parseInt(form.dataset.parcel, 10) };
    ["company", "tax_code", "contact_name", "contact_email", "contact_phone", "message"].forEach(function (k) {
      var v = (data.get(k) || "").trim();
      if (v) { body[k] = v; }
    });
    body.proposed_units = parseInt(data.get("proposed_units"), 10);
    var out = document.getElementById("result");
    fetch(form.dataset.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + data.get("token") },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 201) {
          out.textContent = (en ? "Received, reference no. " : "Đã nhận đăng ký, số ") + res[1].id;
          form.reset();
        } else {
          out.textContent = (en ? "Not sent: " : "Chưa gửi được: ") + (res[1].detail || res[0]);
        }
      });
  });
})();
