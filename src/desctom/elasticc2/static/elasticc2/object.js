/* ELAsTiCC2 object page: the light curve (flux or magnitude) and probability vs time, with plotly.js. */
(function () {
  'use strict';
  var COLORS = {u: '#6a3d9a', g: '#1f78b4', r: '#33a02c', i: '#e6ab02', z: '#e31a1c', Y: '#444444'};
  var ltcv = JSON.parse(document.getElementById('ltcv-data').textContent);
  var config = {responsive: true, displaylogo: false};

  function toMag(points, zp) {
    var out = {x: [], y: [], err: []};
    points.flux.forEach(function (f, k) {
      if (f > 0) {
        out.x.push(points.mjd[k]);
        out.y.push(zp - 2.5 * Math.log10(f));
        out.err.push(1.0857 * points.fluxerr[k] / f);
      }
    });
    return out;
  }

  function traces(units) {
    var result = [];
    ['forced', 'detections'].forEach(function (kind) {
      var bands = ltcv[kind];
      Object.keys(bands).forEach(function (band) {
        var p = bands[band];
        var xy = units === 'mag' ? toMag(p, ltcv.zp) : {x: p.mjd, y: p.flux, err: p.fluxerr};
        var detected = kind === 'detections';
        result.push({
          type: 'scatter', mode: 'markers', x: xy.x, y: xy.y, name: band + (detected ? ' detection' : ' forced'),
          meta: {kind: kind, band: band}, legendgroup: band,
          error_y: {type: 'data', array: xy.err, visible: true, thickness: 1, color: COLORS[band]},
          marker: detected ? {color: COLORS[band], size: 9, symbol: 'circle'}
                           : {color: COLORS[band], size: 6, symbol: 'circle-open'}
        });
      });
    });
    return result;
  }

  function drawLightCurve(units) {
    var layout = {
      margin: {t: 10, r: 10}, xaxis: {title: {text: 'MJD'}, tickformat: '.1f'}, legend: {orientation: 'h', y: -0.25},
      yaxis: units === 'mag' ? {title: {text: 'AB magnitude'}, autorange: 'reversed'}
                             : {title: {text: 'flux (nJy)'}}
    };
    Plotly.react('ltcv-plot', traces(units), layout, config);
  }

  document.querySelectorAll('input[name="ltcv-units"]').forEach(function (el) {
    el.addEventListener('change', function (e) { drawLightCurve(e.target.value); });
  });
  drawLightCurve('flux');

  var probs = JSON.parse(document.getElementById('prob-data').textContent);
  var select = document.getElementById('prob-classifier');
  function drawProbabilities(index) {
    var plot = probs[index];
    if (!plot) { return; }
    var data = plot.traces.map(function (t) {
      return {type: 'scatter', mode: 'lines+markers', x: t.mjd, y: t.prob, name: t.name};
    });
    Plotly.react('prob-plot', data, {
      margin: {t: 10, r: 10}, xaxis: {title: {text: 'MJD of the classified detection'}, tickformat: '.1f'},
      yaxis: {title: {text: 'probability'}, range: [0, 1.05]}, legend: {orientation: 'h'}
    }, config);
  }
  if (select) {
    select.addEventListener('change', function () { drawProbabilities(Number(select.value)); });
    drawProbabilities(0);
  }
}());
