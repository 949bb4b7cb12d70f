/* Keep plotly.js map plots offline.
 *
 * plotly.js fetches world outlines (topojson) from its CDN for every 'geo' subplot, even when
 * land and coastlines are hidden, as in the TOM Toolkit's sky-distribution plots. plotly.js
 * looks in window.PlotlyGeoAssets first: give it empty outlines, so sky plots (which need no
 * continents) draw without any request leaving this server.
 */
(function () {
  function emptyWorld() {
    const layers = ['land', 'ocean', 'lakes', 'rivers', 'countries', 'subunits', 'coastlines'];
    const objects = {};
    layers.forEach(function (name) { objects[name] = {type: 'GeometryCollection', geometries: []}; });
    return {type: 'Topology', objects: objects, arcs: []};
  }
  window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
  ['world_110m', 'world_50m', 'usa_110m', 'usa_50m', 'europe_110m', 'europe_50m', 'asia_110m', 'asia_50m',
   'africa_110m', 'africa_50m', 'north-america_110m', 'north-america_50m', 'south-america_110m',
   'south-america_50m'].forEach(function (name) {
    if (!window.PlotlyGeoAssets.topojson[name]) { window.PlotlyGeoAssets.topojson[name] = emptyWorld(); }
  });
})();
