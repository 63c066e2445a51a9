// The statistics page's charts (templates/notifications/stats.html), from the figures the
// page carries as JSON (#stats-data). A file, not inline: the CSP allows 'self' scripts only.
(function () {
  var data = JSON.parse(document.getElementById("stats-data").textContent);
  var palette = ["#c8161d", "#1664ff", "#0a7a3d", "#b26a00", "#7b3fe4", "#00a3bf", "#e8684a", "#6dc8ec", "#9270ca", "#ff9d4d", "#269a99", "#ff99c3", "#5b8ff9", "#5d7092"];
  function bar(id, labels, values, opts) {
    var el = document.getElementById(id); if (!el) return;
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(Object.assign({
      color: palette, animation: false, tooltip: {trigger: "axis"},
      grid: {left: 48, right: 16, top: 24, bottom: 64},
      xAxis: {type: "category", data: labels, axisLabel: {interval: 0, rotate: labels.length > 4 ? 30 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", data: values, barMaxWidth: 40}]
    }, opts || {}));
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-rendered", "1");
  }
  var statuses = data.by_status.filter(function (s) { return s.count > 0; });
  var districts = data.by_district.map(function (d) { return d.district; });
  bar("chart-district", districts, [], {
    legend: {type: "scroll", bottom: 0}, grid: {left: 48, right: 16, top: 24, bottom: 80},
    series: statuses.map(function (s) {
      return {name: s.label, type: "bar", stack: "total", barMaxWidth: 48,
              data: data.by_district.map(function (d) { return d.counts[s.status]; })};
    })
  });
  var st = data.by_status.slice().reverse();
  bar("chart-status", [], [], {
    grid: {left: 200, right: 24, top: 8, bottom: 24},
    xAxis: {type: "value", minInterval: 1},
    yAxis: {type: "category", data: st.map(function (r) { return r.label; }), axisLabel: {width: 190, overflow: "truncate"}},
    series: [{type: "bar", data: st.map(function (r) { return r.count; }), barMaxWidth: 16}]
  });
  bar("chart-backlog", data.backlog.map(function (b) { return b.label; }), [], {
    legend: {bottom: 0}, series: [
      {name: "待审核", type: "bar", data: data.backlog.map(function (b) { return b.pending; })},
      {name: "逾期", type: "bar", data: data.backlog.map(function (b) { return b.overdue; })}]
  });
  bar("chart-group", data.by_worker_group.map(function (r) { return r.label; }), data.by_worker_group.map(function (r) { return r.count; }));
  var kh = data.by_kind.concat(data.by_hukou);
  bar("chart-kind", kh.map(function (r) { return r.label; }), kh.map(function (r) { return r.count; }));
  bar("chart-hours", data.opening_day.hours.map(function (h) { return h.hour; }), data.opening_day.hours.map(function (h) { return h.count; }));
})();
