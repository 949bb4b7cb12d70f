/* Live survey object page: the light curve (flux vs MJD per band) and each classifier's class
   probabilities over time, with the local plotly.js. */
(function () {
  'use strict';
  var COLORS = {u: '#6a3d9a', g: '#1f78b4', r: '#33a02c', i: '#e6ab02', z: '#e31a1c', y: '#444444', Y: '#444444'};
  var config = {responsive: true, displaylogo: false};
  var ltcv = JSON.parse(document.getElementById('ltcv-data').textContent);

  function lightCurveTraces() {
    var result = [];
    ['forced', 'detections'].forEach(function (kind) {
      var bands = ltcv[kind];
      var detected = kind === 'detections';
      Object.keys(bands).forEach(function (band) {
        var p = bands[band];
        var color = COLORS[band] || '#999999';
        result.push({
          type: 'scatter', mode: 'markers', x: p.mjd, y: p.flux, name: band + (detected ? ' detection' : ' forced'),
          meta: {kind: kind, band: band}, legendgroup: band,
          error_y: {type: 'data', array: p.fluxerr, visible: true, thickness: 1, color: color},
          marker: detected ? {color: color, size: 9, symbol: 'circle'} : {color: color, size: 6, symbol: 'circle-open'}
        });
      });
    });
    return result;
  }

  Plotly.react('ltcv-plot', lightCurveTraces(), {
    margin: {t: 10, r: 10}, xaxis: {title: {text: 'MJD (TAI)'}, tickformat: '.1f'},
    yaxis: {title: {text: 'PSF flux (nJy)'}}, legend: {orientation: 'h', y: -0.25}
  }, config);

  var probs = JSON.parse(document.getElementById('prob-data').textContent);
  // one colour per class on every classifier's plot
  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
                 '#bcbd22', '#17becf'];
  var classColor = {};
  probs.forEach(function (plot) {
    plot.traces.forEach(function (t) { classColor[t.name] = null; });
  });
  Object.keys(classColor).sort().forEach(function (name, k) { classColor[name] = PALETTE[k % PALETTE.length]; });
  function drawProbabilities(axis) {
    probs.forEach(function (plot, index) {
      var data = plot.traces.map(function (t) {
        return {type: 'scatter', mode: 'lines+markers', x: axis === 'mjd' ? t.mjd : t.received, y: t.prob,
                name: t.name, connectgaps: true, line: {color: classColor[t.name]},
                marker: {color: classColor[t.name]}};
      });
      Plotly.react('prob-plot-' + index, data, {
        margin: {t: 10, r: 10},
        xaxis: axis === 'mjd' ? {title: {text: 'MJD of the classified source'}, tickformat: '.2f'}
                              : {title: {text: 'received (UTC)'}, type: 'date'},
        yaxis: {title: {text: 'probability'}, range: [0, 1.05]}, legend: {orientation: 'h', y: -0.3}
      }, config);
    });
  }
  document.querySelectorAll('input[name="prob-x"]').forEach(function (el) {
    el.addEventListener('change', function (e) { drawProbabilities(e.target.value); });
  });
  drawProbabilities('received');
}());
