// Importance (share of R²) against performance (mean rating) for each driver.
(function () {
  const source = document.getElementById("kda-data");
  const canvas = document.getElementById("kda-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const points = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "scatter",
    data: { datasets: [{ label: "Drivers", data: points, backgroundColor: "#6f42c1", pointRadius: 6 }] },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${c.raw.label}: ${c.raw.y}% of R², mean ${c.raw.x}` } },
      },
      scales: {
        x: { title: { display: true, text: "Performance (mean rating, 1-5)" } },
        y: { title: { display: true, text: "Importance (% of R²)" }, beginAtZero: true },
      },
    },
  });
})();
