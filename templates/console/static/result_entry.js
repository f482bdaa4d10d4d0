// The result form offers only what the chosen code allows (results.CODE_RULES, carried on
// each code's <option> as data attributes): its sub-codes and follow-ups; the finding and
// the sub-code become required when the code needs them. The server checks the same table.
(function () {
  "use strict";
  function apply(fieldset) {
    var code = fieldset.querySelector("select[name^=code_]");
    var sub = fieldset.querySelector("select[name^=sub_code_]");
    var follow = fieldset.querySelector("select[name^=follow_up_]");
    var finding = fieldset.querySelector("textarea[name^=finding_]");
    var ref = fieldset.querySelector("input[name^=follow_up_ref_]");
    if (!code || !sub || !follow) { return; }
    var chosen = code.options[code.selectedIndex];
    var any = !chosen || !chosen.value;
    var subs = any ? null : (chosen.dataset.subCodes || "").split(" ").filter(Boolean);
    var follows = any ? null : (chosen.dataset.followUps || "").split(" ").filter(Boolean);
    Array.prototype.forEach.call(sub.options, function (o) {
      var ok = !o.value || subs === null || subs.indexOf(o.value) >= 0;
      o.disabled = !ok; o.hidden = !ok;
      if (!ok && o.selected) { sub.value = ""; }
    });
    sub.required = !any && chosen.dataset.subRequired === "yes";
    var first = null;
    Array.prototype.forEach.call(follow.options, function (o) {
      var ok = follows === null || follows.indexOf(o.value) >= 0;
      o.disabled = !ok; o.hidden = !ok;
      if (ok && first === null) { first = o.value; }
    });
    if (follow.selectedOptions.length && follow.selectedOptions[0].disabled && first !== null) {
      follow.value = first;
    }
    if (finding) {
      var least = any ? 0 : parseInt(chosen.dataset.findingMin || "0", 10);
      finding.required = least > 0;
      finding.minLength = least > 0 ? least : 0;
    }
    if (ref) {
      var needs = follow.selectedOptions.length && follow.selectedOptions[0].dataset.ref;
      ref.required = !!needs;
      ref.placeholder = needs || "";
    }
  }
  document.querySelectorAll("fieldset.item").forEach(function (fieldset) {
    fieldset.addEventListener("change", function () { apply(fieldset); });
    apply(fieldset);
  });
})();
