(function () {
  var doc = document.documentElement;
  var out = {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, nameWidths: [], overlaps: [], broken: []};
  document.querySelectorAll("table.nominations tbody tr").forEach(function (tr) {
    var name = tr.querySelector("td.name"), score = tr.querySelector("td.score");
    var n = name.getBoundingClientRect(), s = score.getBoundingClientRect();
    out.nameWidths.push(Math.round(n.width));
    if (n.right > s.left + 0.5 || name.scrollWidth > name.clientWidth + 1) out.overlaps.push(name.textContent);
  });
  var words = new Intl.Segmenter("th", {granularity: "word"});
  document.querySelectorAll("th").forEach(function (th) {
    var walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      for (var seg of words.segment(node.data)) {
        if (!seg.isWordLike) continue;
        var range = document.createRange();
        range.setStart(node, seg.index); range.setEnd(node, seg.index + seg.segment.length);
        var tops = {};
        Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) tops[Math.round(r.top)] = 1; });
        if (Object.keys(tops).length > 1) out.broken.push(seg.segment);
      }
    }
  });
  var pre = document.createElement("pre"); pre.id = "measurements";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
