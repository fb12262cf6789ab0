// Verification chart: the measure per period, baseline points grey, check points green.
(function () {
  const source = document.getElementById("verification-data");
  const canvas = document.getElementById("verification-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const d = JSON.parse(source.textContent);
  const colour = { baseline: "#6c757d", check: "#198754", between: "#ced4da" };
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: d.labels,
      datasets: [{ label: d.unit, data: d.values, backgroundColor: d.windows.map((w) => colour[w]) }],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { afterLabel: (ctx) => d.windows[ctx.dataIndex] + " window" } },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: d.unit } } },
    },
  });
})();
