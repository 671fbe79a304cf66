// The duplicate check while typing a new account's name: up to five similar
// accounts, each with its owner, under the name field. The form works without it.
(function () {
  "use strict";
  var DELAY_MS = 250;

  function setUp(panel) {
    var input = document.getElementById(panel.dataset.similarFor);
    var box = panel.querySelector(".alert");
    var list = panel.querySelector(".similar-list");
    if (!input || !box || !list) {
      return;
    }
    var timer = null;
    var latest = 0;

    function show(accounts) {
      list.replaceChildren();
      accounts.forEach(function (account) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = account.url;
        link.textContent = account.name;
        item.appendChild(link);
        item.appendChild(document.createTextNode(
          " · " + panel.dataset.ownerLabel + ": " + (account.owner || panel.dataset.noOwner)
        ));
        if (account.inactive) {
          var badge = document.createElement("span");
          badge.className = "badge text-bg-secondary ms-1";
          badge.textContent = panel.dataset.inactiveLabel;
          item.appendChild(badge);
        }
        list.appendChild(item);
      });
      box.hidden = accounts.length === 0;
    }

    function check() {
      var name = input.value.trim();
      var request = ++latest;
      if (!name) {
        show([]);
        return;
      }
      var url = panel.dataset.similarUrl + "?name=" + encodeURIComponent(name);
      if (panel.dataset.exclude) {
        url += "&exclude=" + encodeURIComponent(panel.dataset.exclude);
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : [];
        })
        .then(function (accounts) {
          if (request === latest) {
            show(accounts);
          }
        })
        .catch(function () {
          // Offline or the session ended: saving still checks on the server.
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, DELAY_MS);
    });
  }

  document.querySelectorAll("[data-similar-url]").forEach(setUp);
})();
