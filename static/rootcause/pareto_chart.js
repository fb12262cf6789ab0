// Pareto chart: bars per sub-theme, the cumulative share as a line, and the vital-few cut-off.
// On a phone the bars lie down (sub-themes down the side, their names written across the screen
// in full, the box as tall as the bars need); standing bars would turn the names into cut-off
// diagonals. The chart is redrawn when the screen crosses the breakpoint (a phone turned round).
(function () {
  const source = document.getElementById("pareto-data");
  const canvas = document.getElementById("pareto-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const d = JSON.parse(source.textContent);
  const phone = window.matchMedia("(max-width: 575.98px)");
  let chart = null;

  // A long name on two or three short lines, so the bars keep most of a phone's width.
  function wrap(label) {
    const lines = [];
    for (const word of String(label).split(" ")) {
      const last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= 16) lines[last] += " " + word;
      else lines.push(word);
    }
    return lines;
  }

  function draw() {
    if (chart) chart.destroy();
    const lying = phone.matches;
    const box = canvas.parentElement;
    box.style.height = lying ? Math.max(240, d.labels.length * 44 + 90) + "px" : "";
    const value = lying ? "xAxisID" : "yAxisID";
    chart = new Chart(canvas, {
      data: {
        labels: lying ? d.labels.map(wrap) : d.labels,
        datasets: [
          { type: "bar", label: "Comments", data: d.values, backgroundColor: "#6f42c1", [value]: "count" },
          { type: "line", label: "Cumulative %", data: d.cumulative, borderColor: "#c2410c", backgroundColor: "#c2410c", [value]: "share" },
          { type: "line", label: "Cut-off", data: d.labels.map(() => d.cutoff), borderColor: "#dc3545", borderDash: [4, 4], pointRadius: 0, [value]: "share" },
        ],
      },
      options: {
        indexAxis: lying ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: {
          count: { axis: lying ? "x" : "y", beginAtZero: true, position: lying ? "bottom" : "left" },
          share: {
            axis: lying ? "x" : "y", min: 0, max: 100, position: lying ? "top" : "right",
            grid: { drawOnChartArea: false }, ticks: { callback: (v) => v + "%" },
          },
          [lying ? "y" : "x"]: { ticks: { autoSkip: false, color: "#212529" } },
        },
      },
    });
  }
  draw();
  phone.addEventListener("change", draw);
})();
