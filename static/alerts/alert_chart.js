// Draws a metric's values with the periods where the rule fired (red) and resolved (green),
// and control limits for control-chart rules (data from json_script). Drawn again when htmx swaps in
// a new chart (the rule form's preview).
function drawAlertChart() {
  const source = document.getElementById("alert-chart-data");
  const canvas = document.getElementById("alert-chart");
  if (!source || !canvas || typeof Chart === "undefined" || Chart.getChart(canvas)) return;
  const d = JSON.parse(source.textContent);
  const thisIndex = d.labels.indexOf(d.this);
  const datasets = [
    { label: "Value", data: d.values, borderColor: "#0d6efd", backgroundColor: "#0d6efd", pointRadius: d.labels.length > 60 ? 0 : 2, tension: 0.1, order: 3 },
    {
      label: "Fired", data: d.fired, showLine: false, borderColor: "#dc3545", backgroundColor: "#dc3545", order: 1,
      pointStyle: "triangle", pointRadius: d.fired.map((v, i) => (v === null ? 0 : i === thisIndex ? 10 : 6)),
    },
    { label: "Resolved", data: d.resolved, showLine: false, borderColor: "#198754", backgroundColor: "#198754", pointStyle: "rectRot", pointRadius: 6, order: 2 },
  ];
  for (const line of d.lines) {
    datasets.push({ label: line.label, data: d.labels.map(() => line.value), borderColor: line.color, backgroundColor: line.color, borderDash: [4, 4], pointRadius: d.labels.length === 1 ? 4 : 0, order: 4 });
  }
  if (d.limits) {
    const line = (label, data, color, dash) => ({ label: label, data: data, borderColor: color, backgroundColor: color, borderDash: dash, pointRadius: 0, stepped: true, order: 4 });
    const which = d.limits.label ? " (" + d.limits.label + ")" : "";
    datasets.push(line("Centre" + which, d.limits.centre, "#6c757d", []));
    datasets.push(line("Upper control limit" + which, d.limits.upper, "#dc3545", [6, 4]));
    datasets.push(line("Lower control limit" + which, d.limits.lower, "#dc3545", [6, 4]));
  }
  new Chart(canvas, {
    type: "line",
    data: { labels: d.labels, datasets: datasets },
    options: {
      maintainAspectRatio: false,
      animation: false,
      spanGaps: false,
      interaction: { mode: "index", intersect: false },
      plugins: { tooltip: { filter: (item) => item.raw !== null } },
      scales: { y: { title: { display: !!d.unit, text: d.unit } } },
    },
  });
}
drawAlertChart();
document.addEventListener("htmx:afterSettle", drawAlertChart);
