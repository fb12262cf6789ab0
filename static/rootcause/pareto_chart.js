// Pareto chart: bars per sub-theme, the cumulative share as a line, and the vital-few cut-off.
(function () {
  const source = document.getElementById("pareto-data");
  const canvas = document.getElementById("pareto-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const d = JSON.parse(source.textContent);
  new Chart(canvas, {
    data: {
      labels: d.labels,
      datasets: [
        { type: "bar", label: "Comments", data: d.values, backgroundColor: "#6f42c1", yAxisID: "y" },
        { type: "line", label: "Cumulative %", data: d.cumulative, borderColor: "#fd7e14", backgroundColor: "#fd7e14", yAxisID: "share" },
        { type: "line", label: "Cut-off", data: d.labels.map(() => d.cutoff), borderColor: "#dc3545", borderDash: [4, 4], pointRadius: 0, yAxisID: "share" },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: {
        y: { beginAtZero: true, position: "left" },
        share: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, ticks: { callback: (v) => v + "%" } },
      },
    },
  });
})();
