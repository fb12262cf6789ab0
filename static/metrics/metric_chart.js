// Draws a metric's values with its 95% interval, target and thresholds (data from json_script).
(function () {
  const source = document.getElementById("metric-chart-data");
  const canvas = document.getElementById("metric-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const d = JSON.parse(source.textContent);
  const flat = (value) => d.labels.map(() => value);
  // With a single period a line has no length: show its points instead.
  const lineDots = d.labels.length === 1 ? 4 : 0;
  const datasets = [
    { label: "Value", data: d.values, borderColor: "#0d6efd", backgroundColor: "#0d6efd", tension: 0.2, pointRadius: 3 },
  ];
  if (d.low.some((v) => v !== null)) {
    datasets.push({ label: "95% interval low", data: d.low, borderColor: "rgba(13,110,253,0.2)", pointRadius: 0, fill: false });
    datasets.push({ label: "95% interval", data: d.high, borderColor: "rgba(13,110,253,0.2)", backgroundColor: "rgba(13,110,253,0.08)", pointRadius: 0, fill: "-1" });
  }
  if (d.target !== null) datasets.push({ label: "Target", data: flat(d.target), borderColor: "#198754", backgroundColor: "#198754", borderDash: [6, 4], pointRadius: lineDots });
  if (d.amber !== null) datasets.push({ label: "Amber threshold", data: flat(d.amber), borderColor: "#ffc107", backgroundColor: "#ffc107", borderDash: [2, 3], pointRadius: lineDots });
  if (d.red !== null) datasets.push({ label: "Red threshold", data: flat(d.red), borderColor: "#dc3545", backgroundColor: "#dc3545", borderDash: [2, 3], pointRadius: lineDots });
  new Chart(canvas, {
    type: "line",
    data: { labels: d.labels, datasets: datasets },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { labels: { filter: (item) => item.text !== "95% interval low" } },
        tooltip: {
          callbacks: {
            afterBody: (items) => {
              const n = d.n[items[0].dataIndex];
              return n === null ? "" : "Sample size: " + n;
            },
          },
        },
      },
      scales: { y: { title: { display: !!d.unit, text: d.unit } } },
    },
  });
})();
