/* Search on the static site: filters the prebuilt index (data/search-index.js) in the
   browser. Results are built with textContent, never innerHTML, so names stay text. */
(function () {
  "use strict";
  var index = window.SUPERVISION_SEARCH_INDEX;
  var box = document.getElementById("search-results");
  if (!index || !box) { return; }
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  if (!query) { return; }
  var input = document.getElementById("q");
  if (input) { input.value = query; }
  var needle = query.toUpperCase();
  var root = box.getAttribute("data-root") || "";
  var hits = [];
  for (var i = 0; i < index.entries.length && hits.length < 200; i++) {
    var e = index.entries[i];  // [key, name, detail, path]
    if (e[0].toUpperCase().indexOf(needle) === 0 || e[1].toUpperCase().indexOf(needle) !== -1) {
      hits.push(e);
    }
  }
  while (box.firstChild) { box.removeChild(box.firstChild); }
  var summary = document.createElement("p");
  summary.textContent = hits.length
    ? box.getAttribute("data-count").replace("{n}", String(hits.length))
    : box.getAttribute("data-empty");
  box.appendChild(summary);
  if (!hits.length) { return; }
  var list = document.createElement("ul");
  list.className = "hits";
  hits.forEach(function (e) {
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = root + e[3].split("/").map(encodeURIComponent).join("/");
    link.textContent = e[1];
    var code = document.createElement("code");
    code.textContent = e[0];
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(code);
    item.appendChild(document.createTextNode(" " + e[2]));
    list.appendChild(item);
  });
  box.appendChild(list);
}());
