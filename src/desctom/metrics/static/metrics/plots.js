/* Draw every metric figure: each <div class="metrics-plot" data-figure="ID"> gets the plotly
 * figure held as JSON in <script id="ID">. */
(function () {
  function draw() {
    document.querySelectorAll('.metrics-plot').forEach(function (div) {
      const fig = JSON.parse(document.getElementById(div.dataset.figure).textContent);
      Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false});
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
