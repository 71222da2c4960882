// The report's tables: sort by a column with the button in its header (mouse or keyboard;
// again to reverse), filter rows with the search box above the table. No library.
// A cell's data-sort is its key: numbers compare as numbers, everything else (versions
// included: 4.10 after 4.9) in natural order; empty cells ("" keys) stay last.
(function () {
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  function key(td) {
    var s = td.getAttribute("data-sort");
    if (s === "") return {e: true};
    if (s !== null && !isNaN(Number(s))) return {n: Number(s)};
    return {t: (s !== null ? s : td.textContent).trim()};
  }
  function compare(a, b) {
    if (a.n !== undefined && b.n !== undefined) return a.n - b.n;
    if (a.n !== undefined) return -1;
    if (b.n !== undefined) return 1;
    return collator.compare(a.t, b.t);
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) {
      return r.cells.length > col;
    });
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var keyed = rows.map(function (r, i) { return {r: r, k: key(r.cells[col]), i: i}; });
    keyed.sort(function (a, b) {
      if (a.k.e || b.k.e) return a.k.e && b.k.e ? a.i - b.i : (a.k.e ? 1 : -1);
      return dir * compare(a.k, b.k) || a.i - b.i;
    });
    keyed.forEach(function (x) { body.appendChild(x.r); });
  }
  function filter(block, text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    var table = block.querySelector("table");
    var shown = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (r) {
      var hay = r.textContent.toLowerCase();
      var ok = words.every(function (w) { return hay.indexOf(w) !== -1; });
      r.hidden = !ok;
      if (ok) shown++;
    });
    var count = block.querySelector(".ca-count");
    if (!count.hasAttribute("data-all")) count.setAttribute("data-all", count.innerHTML);
    if (words.length) count.textContent = shown + " of " + rows.length + " rows shown match the filter.";
    else count.innerHTML = count.getAttribute("data-all");
  }
  function init() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (!table.tHead || !table.tBodies.length) return;
      table.tHead.querySelectorAll("button.ca-sort").forEach(function (button) {
        var th = button.parentNode;
        button.addEventListener("click", function () { sortBy(table, th.cellIndex, th); });
      });
    });
    document.querySelectorAll(".ca-table-block input.ca-filter").forEach(function (input) {
      var block = input.closest(".ca-table-block");
      input.addEventListener("input", function () { filter(block, input.value); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
