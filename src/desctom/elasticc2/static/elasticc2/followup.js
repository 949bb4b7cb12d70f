/* Follow-up board: plan and un-plan spectra by POSTing to the follow-up API as the logged-in user. */
(function () {
  'use strict';
  var script = document.getElementById('followup-js');
  var csrf = document.querySelector('input[name="csrfmiddlewaretoken"]').value;
  var status = document.getElementById('followup-status');

  function say(text, ok) {
    status.textContent = text;
    status.className = 'alert ' + (ok ? 'alert-success' : 'alert-danger');
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) { throw new Error(data.error || ('HTTP ' + res.status)); }
        return data;
      });
    });
  }

  function done(text) {
    say(text, true);
    window.setTimeout(function () { window.location.reload(); }, 300);
  }

  document.querySelectorAll('.show-plan').forEach(function (button) {
    button.addEventListener('click', function () {
      var cell = button.parentElement;
      if (cell.querySelector('form')) { return; }
      var form = document.getElementById('plan-form-template').content.firstElementChild.cloneNode(true);
      var objectid = Number(button.closest('tr').dataset.objectid);
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var body = {objectid: objectid, facility: form.facility.value, comment: form.comment.value};
        if (form.plantime.value.trim()) { body.plantime = form.plantime.value.trim(); }
        post(script.dataset.planUrl, body)
          .then(function (data) { done('Planned ' + data.objectid + ' at ' + data.facility + '.'); })
          .catch(function (err) { say(err.message, false); });
      });
      cell.appendChild(form);
      form.facility.focus();
    });
  });

  document.querySelectorAll('.unplan').forEach(function (button) {
    button.addEventListener('click', function () {
      var row = button.closest('tr');
      post(script.dataset.unplanUrl, {objectid: Number(row.dataset.objectid), facility: row.dataset.facility})
        .then(function (data) { done('Removed ' + data.n_deleted + ' plan(s) of ' + data.objectid + '.'); })
        .catch(function (err) { say(err.message, false); });
    });
  });
}());
