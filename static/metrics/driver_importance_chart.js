// Each driver's share of R² (bar) with its 95% bootstrap interval (thin floating bar).
(function () {
  const source = document.getElementById("importance-data");
  const canvas = document.getElementById("importance-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const rows = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((r) => r.driver),
      datasets: [
        { label: "Share of R² (%)", data: rows.map((r) => r.share), backgroundColor: "rgba(111, 66, 193, 0.55)", order: 2 },
        {
          label: "95% interval",
          data: rows.map((r) => (r.low === null ? null : [r.low, r.high])),
          backgroundColor: "#212529",
          barPercentage: 0.12,
          order: 1, // drawn over the share bar
        },
      ],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      grouped: false,
      plugins: { legend: { position: "bottom" } },
      scales: { x: { title: { display: true, text: "Importance (% of R²)" }, beginAtZero: true } },
    },
  });
})();
