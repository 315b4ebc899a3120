/* Review of failing cases: j / k move the focus to the next / previous case (a progressive
   enhancement: without script the previous/next links under each case do the same). */
(function () {
  "use strict";
  var list = document.querySelector("[data-review-cases]");
  if (!list) { return; }
  var cases = Array.prototype.slice.call(list.querySelectorAll(".review-case"));
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var step = event.key === "j" ? 1 : event.key === "k" ? -1 : 0;
    if (!step) { return; }
    var current = cases.findIndex(function (c) { return c.contains(document.activeElement); });
    var next = current === -1 ? (step > 0 ? 0 : cases.length - 1) : current + step;
    if (next < 0 || next >= cases.length) { return; }
    event.preventDefault();
    cases[next].focus();
    cases[next].scrollIntoView({block: "start"});
  });
}());
