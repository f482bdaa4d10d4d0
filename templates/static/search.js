/* Search on the static site: filters the prebuilt index (data/search-index.js) in the
   browser. Results are built with textContent, never innerHTML, so names stay text. */
(function () {
  "use strict";
  // GB 32100-2015: a USCC whose check character is wrong names no entity at all.
  var ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function validUscc(code) {
    var sum = 0;
    for (var k = 0; k < 17; k++) {
      var v = ALPHABET.indexOf(code.charAt(k));
      if (v < 0) { return false; }
      sum += v * WEIGHTS[k];
    }
    return ALPHABET.charAt((31 - sum % 31) % 31) === code.charAt(17);
  }
  var index = window.SUPERVISION_SEARCH_INDEX;
  var box = document.getElementById("search-results");
  // A served site answered the query itself (and may know more: see console/routes/site.py).
  if (!index || !box || box.hasAttribute("data-served")) { return; }
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
  var absent = !hits.length && /^[0-9A-Z]{18}$/.test(needle) && !validUscc(needle);
  summary.textContent = hits.length
    ? box.getAttribute("data-count").replace("{n}", String(hits.length))
    : box.getAttribute(absent ? "data-absent" : "data-empty");
  if (!hits.length) {
    summary.className = "miss";
    summary.setAttribute("data-miss", absent ? "absent" : "not_drawn");
  }
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
