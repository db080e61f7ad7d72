// The live alert list: subscribes to `alerts(after: <newest id on the page>)` over
// graphql-transport-ws (vendored graphql-ws) and adds each new alert at the top. On a dropped
// connection it subscribes again after the last alert it showed, so nothing is missed or shown
// twice; when the server closes it because the token expired (4401) the page reloads.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("alerts-config").textContent);
  var tbody = document.querySelector("[data-testid='alerts'] tbody");
  var status = document.getElementById("alerts-status");
  var empty = document.getElementById("alerts-empty");
  var after = config.after;
  var shown = new Set(Array.from(tbody.querySelectorAll("tr[data-alert-id]")).map(function (r) {
    return r.getAttribute("data-alert-id");
  }));
  var QUERY = "subscription($after: ID) { alerts(after: $after) { id kind reason subjectType subjectId childId " +
              "occurredAt } }";
  var wait = 1000;

  function cell(row, text) {
    var td = document.createElement("td");
    td.className = "govuk-table__cell";
    if (text !== null) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function add(alert) {
    if (shown.has(alert.id)) return;
    shown.add(alert.id);
    after = alert.id;
    var row = document.createElement("tr");
    row.className = "govuk-table__row mpdb-alert-new";
    row.setAttribute("data-alert-id", alert.id);
    cell(row, alert.occurredAt.slice(0, 19).replace("T", " "));
    cell(row, config.kinds[alert.kind] || alert.kind);
    var child = cell(row, null);
    if (alert.childId) {
      var link = document.createElement("a");
      link.className = "govuk-link";
      link.href = "/children/" + encodeURIComponent(alert.childId);
      link.textContent = alert.childId;
      child.appendChild(link);
    } else {
      child.textContent = "-";
    }
    cell(row, alert.subjectType + " " + alert.subjectId);
    cell(row, alert.reason.replace(/_/g, " "));
    tbody.insertBefore(row, tbody.firstChild);
    empty.hidden = true;
  }

  var client = graphqlWs.createClient({
    url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + config.url,
    connectionParams: config.connectionParams,
    retryAttempts: 0,  // reconnection is ours: it resumes after the last alert shown
    on: {
      connected: function () { status.textContent = "Live: new alerts appear at the top."; wait = 1000; },
      closed: function (event) {
        if (event && event.code === 4401) { location.reload(); return; }
        status.textContent = "Not connected: trying again…";
        status.setAttribute("data-close-code", event && event.code ? String(event.code) : "");
      },
    },
  });

  function subscribe() {
    client.subscribe({ query: QUERY, variables: { after: after } }, {
      next: function (result) {
        if (result.data && result.data.alerts) add(result.data.alerts);
        if (result.errors) status.textContent = "Live alerts stopped: " + result.errors[0].message;
      },
      error: function () { setTimeout(subscribe, wait); wait = Math.min(wait * 2, 30000); },
      complete: function () {},
    });
  }
  subscribe();
})();
