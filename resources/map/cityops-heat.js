/*
 * CityOps heat layer: weighted points drawn as a heat map on one canvas, by this file's own
 * code (no heat map library). Its colours are the caller's (the application's palette, as
 * "#rrggbb" strings); this file holds none. Legend texts come from feeds and configuration
 * and are only ever set with textContent.
 *
 * Drawing: every point stamps a pre-rendered blob (alpha only, falling off from its centre
 * with a quartic kernel) into an offscreen canvas with globalAlpha = its weight normalised
 * to MIN_ALPHA..1 (the lowest value leaves a faint mark). Each pixel's accumulated alpha then picks its colour from a 256-entry table
 * interpolated between the given colours (coldest first) and keeps that alpha.
 *
 * HiDPI: the canvas's backing store is its CSS size times window.devicePixelRatio (which
 * browser zoom changes too) and is drawn in device pixels, the blob's radius scaled with it
 * so that it covers the same CSS area at any ratio. A change of ratio (a matchMedia listener,
 * and a check on each view change) draws the layer again at the new one. The API speaks CSS
 * pixels throughout.
 *
 * API (window.CityOpsHeat):
 *   layer(options)          a new layer (an L.Layer; add it with .addTo(map)); options:
 *                           {pane: name (default "cityopsHeat", created when missing),
 *                           zIndex: the pane's z-index, colors: ["#rrggbb", ...] (at least
 *                           2), radius: px (default 25), opacity: 0..1 (default 1),
 *                           title: text, unit: text}
 *   MAX_POINTS              how many points a layer keeps; the rest are dropped with a warning
 *
 * A layer:
 *   setPoints(points)       [[lat, lon, weight], ...]; invalid entries are skipped
 *   setRange(min, max)      the weights mapped to 0..1; without two numbers: the points' own
 *                           min and max
 *   setRadius(px)           the blob radius in CSS pixels (1..200)
 *   setColors(colors)       a new gradient, as in options
 *   setLegend(title, unit)  the legend's texts
 *   legend()                the legend element (class "cityops-heat-legend"), kept up to
 *                           date; the caller places it
 *   redraw()                draw now; returns the draw's duration in ms
 *   info()                  {points (kept), drawn (in view in the last draw; one at the
 *                           bottom of the range leaves no mark), skipped, dropped, min,
 *                           max, radius, width, height (the canvas's, in CSS pixels),
 *                           pixelRatio (device pixels per CSS pixel of the last draw),
 *                           drawMs}
 *   sample(lat, lon)        [r, g, b, a] of the canvas pixel at that place (the device pixel
 *                           a blob there is centred on), null off the canvas
 * The setters return the layer and redraw it when it is on a map.
 */
(function () {
  "use strict";

  var MAX_POINTS = 20000;
  var DEFAULT_PANE = "cityopsHeat";
  var DEFAULT_RADIUS = 25;
  var MIN_ALPHA = 0.08; // the weight of the lowest value
  var MIN_RADIUS = 1;
  var MAX_RADIUS = 200;
  var MAX_TEXT = 200;
  var HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
  var PANE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
  var LEGEND_BAR_WIDTH = 256;

  function warn(message) {
    console.warn("cityops heat: " + message);
  }

  // Device pixels per CSS pixel (a screen's scale and the browser's zoom); 1 when unknown.
  function pixelRatio() {
    var ratio = window.devicePixelRatio;
    return isNumber(ratio) && ratio > 0 ? ratio : 1;
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function clamp(value, low, high) {
    return value < low ? low : value > high ? high : value;
  }

  function text(value) {
    return value === undefined || value === null ? "" : String(value).slice(0, MAX_TEXT);
  }

  function validPoint(point) {
    return (
      Array.isArray(point) &&
      isNumber(point[0]) &&
      isNumber(point[1]) &&
      isNumber(point[2]) &&
      Math.abs(point[0]) <= 90 &&
      Math.abs(point[1]) <= 180
    );
  }

  // A blob 2 * radius + 1 pixels wide with its centre at (radius, radius): colour channels
  // zero, alpha 255 * (1 - (d / radius)^2)^2.
  function makeStamp(radius) {
    var size = 2 * radius + 1;
    var canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    var ctx = canvas.getContext("2d");
    var image = ctx.createImageData(size, size);
    var data = image.data;
    var r2 = radius * radius;
    for (var y = 0; y < size; y++) {
      for (var x = 0; x < size; x++) {
        var dx = x - radius;
        var dy = y - radius;
        var t = 1 - (dx * dx + dy * dy) / r2;
        if (t > 0) {
          data[(y * size + x) * 4 + 3] = Math.round(255 * t * t);
        }
      }
    }
    ctx.putImageData(image, 0, 0);
    return canvas;
  }

  function parseColors(colors) {
    var list = Array.isArray(colors) ? colors : [];
    var rgb = [];
    list.forEach(function (value) {
      if (typeof value === "string" && HEX_COLOR.test(value)) {
        var n = parseInt(value.slice(1), 16);
        rgb.push([(n >> 16) & 255, (n >> 8) & 255, n & 255]);
      }
    });
    if (rgb.length < list.length) {
      warn("ignored " + (list.length - rgb.length) + " colour(s) that are not #rrggbb values");
    }
    return rgb;
  }

  // Entry a (4 bytes) is the gradient's colour at a / 255, with alpha a; entry 0 is all zero.
  function makeTable(rgb) {
    var bytes = new Uint8ClampedArray(256 * 4);
    var last = rgb.length - 1;
    for (var a = 1; a < 256; a++) {
      var pos = (a / 255) * last;
      var i = Math.min(Math.floor(pos), last - 1);
      var f = pos - i;
      for (var c = 0; c < 3; c++) {
        bytes[a * 4 + c] = Math.round(rgb[i][c] + (rgb[i + 1][c] - rgb[i][c]) * f);
      }
      bytes[a * 4 + 3] = a;
    }
    return bytes;
  }

  function formatNumber(value) {
    if (value === null) {
      return "\u2013";
    }
    var size = Math.abs(value);
    return value.toLocaleString(undefined, {
      maximumFractionDigits: size >= 100 ? 0 : size >= 10 ? 1 : 2
    });
  }

  function styled(tag, className, style) {
    var el = document.createElement(tag);
    el.className = className;
    Object.keys(style).forEach(function (name) {
      el.style[name] = style[name];
    });
    return el;
  }

  var HeatLayer = L.Layer.extend({
    initialize: function (options) {
      var opts = options !== null && typeof options === "object" ? options : {};
      var named = typeof opts.pane === "string" && PANE_NAME.test(opts.pane);
      L.setOptions(this, { pane: named ? opts.pane : DEFAULT_PANE });
      this._zIndex = isNumber(opts.zIndex) ? opts.zIndex : null;
      this._opacity = isNumber(opts.opacity) ? clamp(opts.opacity, 0, 1) : 1;
      this._lats = new Float64Array(0);
      this._lons = new Float64Array(0);
      this._weights = new Float64Array(0);
      this._count = 0;
      this._skipped = 0;
      this._dropped = 0;
      this._dataMin = null;
      this._dataMax = null;
      this._range = null;
      this._projected = null;
      this._projectedZoom = null;
      this._radius = DEFAULT_RADIUS;
      this._stamp = null;
      this._stampRadius = null;
      this._table = null;
      this._title = "";
      this._unit = "";
      this._legend = null;
      this._canvas = null;
      this._ctx = null;
      this._buffer = null;
      this._bufferCtx = null;
      this._drawnKey = null;
      this._drawnZoom = null;
      this._drawnCorner = null;
      this._drawnCount = 0;
      this._drawMs = 0;
      this._ratio = 1;
      this._cssWidth = 0;
      this._cssHeight = 0;
      this._ratioQuery = null;
      this._ratioListener = null;
      this._setColors(opts.colors);
      this._setRadius(opts.radius === undefined ? DEFAULT_RADIUS : opts.radius);
      this._title = text(opts.title);
      this._unit = text(opts.unit);
    },

    onAdd: function (map) {
      var pane = map.getPane(this.options.pane) || map.createPane(this.options.pane);
      if (this._zIndex !== null) {
        pane.style.zIndex = String(this._zIndex);
      }
      var zoomClass = this._zoomAnimated ? "leaflet-zoom-animated" : "leaflet-zoom-hide";
      var canvas = L.DomUtil.create("canvas", "cityops-heat-canvas " + zoomClass);
      canvas.style.pointerEvents = "none";
      canvas.style.opacity = String(this._opacity);
      canvas.width = 0;
      canvas.height = 0;
      pane.appendChild(canvas);
      this._canvas = canvas;
      this._ctx = canvas.getContext("2d");
      this._buffer = document.createElement("canvas");
      this._bufferCtx = this._buffer.getContext("2d", { willReadFrequently: true });
      this._drawnKey = null;
      this._projected = null;
      this._draw();
    },

    // A media query matching the current ratio only; when it stops matching (a screen of
    // another scale, or browser zoom) the layer draws again at the new ratio.
    _watchRatio: function () {
      this._unwatchRatio();
      if (typeof window.matchMedia !== "function") {
        return;
      }
      var query = window.matchMedia("(resolution: " + this._ratio + "dppx)");
      var self = this;
      this._ratioListener = function () {
        if (self._map && self._canvas && pixelRatio() !== self._ratio) {
          self._draw();
        }
      };
      if (typeof query.addEventListener === "function") {
        query.addEventListener("change", this._ratioListener);
      } else if (typeof query.addListener === "function") {
        query.addListener(this._ratioListener);
      }
      this._ratioQuery = query;
    },

    _unwatchRatio: function () {
      var query = this._ratioQuery;
      if (query) {
        if (typeof query.removeEventListener === "function") {
          query.removeEventListener("change", this._ratioListener);
        } else if (typeof query.removeListener === "function") {
          query.removeListener(this._ratioListener);
        }
      }
      this._ratioQuery = null;
      this._ratioListener = null;
    },

    onRemove: function () {
      this._unwatchRatio();
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this._ctx = null;
      this._buffer = null;
      this._bufferCtx = null;
      this._drawnKey = null;
      this._drawnCorner = null;
      this._drawnCount = 0;
      this._cssWidth = 0; // a canvas added again is sized again
      this._cssHeight = 0;
    },

    getEvents: function () {
      var events = {
        viewreset: this._update,
        zoom: this._onZoom,
        zoomend: this._update,
        moveend: this._update,
        resize: this._update
      };
      if (this._zoomAnimated) {
        events.zoomanim = this._onZoomAnim;
      }
      return events;
    },

    setPoints: function (points) {
      if (!Array.isArray(points)) {
        warn("points must be an array; the layer is emptied");
      }
      var list = Array.isArray(points) ? points : [];
      var n = Math.min(list.length, MAX_POINTS);
      var lats = new Float64Array(n);
      var lons = new Float64Array(n);
      var weights = new Float64Array(n);
      var count = 0;
      var skipped = 0;
      var low = Infinity;
      var high = -Infinity;
      var i;
      for (i = 0; i < list.length && count < MAX_POINTS; i++) {
        var point = list[i];
        if (!validPoint(point)) {
          skipped += 1;
          continue;
        }
        lats[count] = point[0];
        lons[count] = point[1];
        weights[count] = point[2];
        low = Math.min(low, point[2]);
        high = Math.max(high, point[2]);
        count += 1;
      }
      this._dropped = list.length - i;
      this._skipped = skipped;
      if (skipped) {
        warn("skipped " + skipped + " invalid point(s)");
      }
      if (this._dropped) {
        warn("kept " + MAX_POINTS + " points; dropped the last " + this._dropped + " entries");
      }
      this._lats = lats;
      this._lons = lons;
      this._weights = weights;
      this._count = count;
      this._dataMin = count ? low : null;
      this._dataMax = count ? high : null;
      this._projected = null;
      return this._changed();
    },

    setRange: function (min, max) {
      if (isNumber(min) && isNumber(max)) {
        this._range = min <= max ? [min, max] : [max, min];
      } else {
        if (arguments.length) {
          warn("a range needs two numbers; using the points' own");
        }
        this._range = null;
      }
      return this._changed();
    },

    setRadius: function (px) {
      this._setRadius(px);
      return this._changed();
    },

    setColors: function (colors) {
      this._setColors(colors);
      return this._changed();
    },

    setLegend: function (title, unit) {
      this._title = text(title);
      this._unit = text(unit);
      this._updateLegend();
      return this;
    },

    legend: function () {
      if (!this._legend) {
        this._legend = this._buildLegend();
        this._updateLegend();
      }
      return this._legend.root;
    },

    redraw: function () {
      return this._map ? this._draw() : 0;
    },

    info: function () {
      var range = this._currentRange();
      return {
        points: this._count,
        drawn: this._drawnCount,
        skipped: this._skipped,
        dropped: this._dropped,
        min: range ? range[0] : null,
        max: range ? range[1] : null,
        radius: this._radius,
        width: this._canvas ? this._cssWidth : 0,
        height: this._canvas ? this._cssHeight : 0,
        pixelRatio: this._ratio,
        drawMs: this._drawMs
      };
    },

    sample: function (lat, lon) {
      if (!this._map || !this._canvas || !isNumber(lat) || !isNumber(lon)) {
        return null;
      }
      // As a point is placed in _stampAll: its unrounded projection, in device pixels.
      var map = this._map;
      var at = map
        .project(L.latLng(lat, lon), map.getZoom())
        .subtract(map.getPixelOrigin())
        .subtract(L.DomUtil.getPosition(this._canvas));
      var x = Math.round(at.x * this._ratio);
      var y = Math.round(at.y * this._ratio);
      if (x < 0 || y < 0 || x >= this._canvas.width || y >= this._canvas.height) {
        return null;
      }
      var d = this._ctx.getImageData(x, y, 1, 1).data;
      return [d[0], d[1], d[2], d[3]];
    },

    _setRadius: function (px) {
      if (!isNumber(px)) {
        warn("a radius must be a number of pixels; kept " + this._radius);
        px = this._radius;
      }
      this._radius = Math.round(clamp(px, MIN_RADIUS, MAX_RADIUS));
      this._stamp = null; // made for the ratio at the next draw
    },

    _setColors: function (colors) {
      var rgb = parseColors(colors);
      if (rgb.length < 2) {
        warn("a heat map needs at least 2 colours; nothing is drawn");
        this._table = null;
      } else {
        this._table = makeTable(rgb);
      }
    },

    _currentRange: function () {
      if (this._range) {
        return this._range;
      }
      return this._count ? [this._dataMin, this._dataMax] : null;
    },

    _changed: function () {
      if (this._map) {
        this._draw();
      }
      this._updateLegend();
      return this;
    },

    // Several of the map's events follow one change of view (zoomend, then moveend); the
    // view's key lets the layer draw once for them.
    _viewKey: function () {
      var map = this._map;
      var origin = map.getPixelOrigin();
      var corner = map.containerPointToLayerPoint([0, 0]);
      var size = map.getSize();
      return [map.getZoom(), origin.x, origin.y, corner.x, corner.y, size.x, size.y]
        .concat(pixelRatio())
        .join(",");
    },

    _update: function () {
      if (this._map && this._canvas && this._viewKey() !== this._drawnKey) {
        this._draw();
      }
    },

    // During a zoom animation the drawn canvas is scaled around its top left corner, which
    // Leaflet's CSS transition moves to where that corner goes (as L.ImageOverlay does).
    _onZoomAnim: function (e) {
      if (!this._drawnCorner) {
        return;
      }
      var map = this._map;
      L.DomUtil.setTransform(
        this._canvas,
        map._latLngToNewLayerPoint(this._drawnCorner, e.zoom, e.center),
        map.getZoomScale(e.zoom, this._drawnZoom)
      );
    },

    _onZoom: function () {
      if (!this._drawnCorner) {
        return;
      }
      var map = this._map;
      L.DomUtil.setTransform(
        this._canvas,
        map.latLngToLayerPoint(this._drawnCorner),
        map.getZoomScale(map.getZoom(), this._drawnZoom)
      );
    },

    _project: function (zoom) {
      var map = this._map;
      var n = this._count;
      var xy = new Float64Array(n * 2);
      for (var i = 0; i < n; i++) {
        var p = map.project(L.latLng(this._lats[i], this._lons[i]), zoom);
        xy[i * 2] = p.x;
        xy[i * 2 + 1] = p.y;
      }
      this._projected = xy;
      this._projectedZoom = zoom;
    },

    _draw: function () {
      var start = performance.now();
      var map = this._map;
      var canvas = this._canvas;
      var ctx = this._ctx;
      var size = map.getSize();
      var cssWidth = Math.max(0, Math.round(size.x));
      var cssHeight = Math.max(0, Math.round(size.y));
      var ratio = pixelRatio();
      if (ratio !== this._ratio || !this._ratioQuery) {
        this._ratio = ratio;
        this._watchRatio();
      }
      // The backing store in device pixels; its CSS size stays the map's.
      var width = Math.round(cssWidth * ratio);
      var height = Math.round(cssHeight * ratio);
      var zoom = map.getZoom();
      var corner = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, corner);
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      } else {
        ctx.clearRect(0, 0, width, height);
      }
      if (cssWidth !== this._cssWidth || cssHeight !== this._cssHeight) {
        canvas.style.width = cssWidth + "px";
        canvas.style.height = cssHeight + "px";
        this._cssWidth = cssWidth;
        this._cssHeight = cssHeight;
      }
      var radius = Math.max(MIN_RADIUS, Math.round(this._radius * ratio));
      if (this._stamp === null || this._stampRadius !== radius) {
        this._stamp = makeStamp(radius);
        this._stampRadius = radius;
      }
      this._drawnKey = this._viewKey();
      this._drawnZoom = zoom;
      this._drawnCorner = map.layerPointToLatLng(corner);
      this._drawnCount = 0;
      var range = this._currentRange();
      if (this._table && range && width && height) {
        if (this._projected === null || this._projectedZoom !== zoom) {
          this._project(zoom);
        }
        this._stampAll(width, height, map.getPixelOrigin().add(corner), ratio, range);
      }
      this._drawMs = performance.now() - start;
      return this._drawMs;
    },

    // width, height and the stamp in device pixels; offset in CSS pixels.
    _stampAll: function (width, height, offset, ratio, range) {
      var buffer = this._buffer;
      var bctx = this._bufferCtx;
      if (buffer.width !== width || buffer.height !== height) {
        buffer.width = width;
        buffer.height = height;
      } else {
        bctx.clearRect(0, 0, width, height);
      }
      var r = this._stampRadius;
      var stamp = this._stamp;
      var xy = this._projected;
      var weights = this._weights;
      var low = range[0];
      var span = range[1] - range[0];
      var left = width;
      var top = height;
      var right = 0;
      var bottom = 0;
      var drawn = 0;
      for (var i = 0; i < this._count; i++) {
        var x = Math.round((xy[i * 2] - offset.x) * ratio) - r;
        var y = Math.round((xy[i * 2 + 1] - offset.y) * ratio) - r;
        if (x >= width || y >= height || x + 2 * r < 0 || y + 2 * r < 0) {
          continue;
        }
        drawn += 1;
        var share = span > 0 ? clamp((weights[i] - low) / span, 0, 1) : +(weights[i] >= low);
        // The lowest value still leaves a faint mark: a place measured is not a place empty.
        var alpha = MIN_ALPHA + (1 - MIN_ALPHA) * share;
        bctx.globalAlpha = alpha;
        bctx.drawImage(stamp, x, y);
        left = Math.min(left, x);
        top = Math.min(top, y);
        right = Math.max(right, x + 2 * r + 1);
        bottom = Math.max(bottom, y + 2 * r + 1);
      }
      this._drawnCount = drawn;
      left = Math.max(0, left);
      top = Math.max(0, top);
      right = Math.min(width, right);
      bottom = Math.min(height, bottom);
      if (!drawn || right <= left || bottom <= top) {
        return;
      }
      var image = bctx.getImageData(left, top, right - left, bottom - top);
      var bytes = image.data;
      var pixels = new Uint32Array(bytes.buffer);
      var table = new Uint32Array(this._table.buffer);
      for (var p = 0, n = pixels.length; p < n; p++) {
        var a = bytes[p * 4 + 3];
        if (a) {
          pixels[p] = table[a];
        }
      }
      this._ctx.putImageData(image, left, top);
    },

    _buildLegend: function () {
      var root = styled("div", "cityops-heat-legend", {
        padding: "0.3em 0.5em",
        borderRadius: "3px",
        border: "1px solid var(--cityops-marker-outline)",
        background: "var(--cityops-boundary-label-halo)",
        color: "var(--cityops-boundary-label)",
        lineHeight: "1.3"
      });
      var heading = styled("div", "cityops-heat-legend-heading", {});
      var title = styled("span", "cityops-heat-legend-title", { fontWeight: "600" });
      var unit = styled("span", "cityops-heat-legend-unit", { marginLeft: "0.4em" });
      heading.appendChild(title);
      heading.appendChild(unit);
      var bar = styled("canvas", "cityops-heat-legend-bar", {
        display: "block",
        width: "12em",
        height: "0.8em",
        margin: "0.2em 0",
        border: "1px solid var(--cityops-marker-outline)"
      });
      bar.width = LEGEND_BAR_WIDTH;
      bar.height = 1;
      var scale = styled("div", "cityops-heat-legend-scale", {
        display: "flex",
        justifyContent: "space-between",
        gap: "1em"
      });
      var min = styled("span", "cityops-heat-legend-min", {});
      var max = styled("span", "cityops-heat-legend-max", {});
      scale.appendChild(min);
      scale.appendChild(max);
      root.appendChild(heading);
      root.appendChild(bar);
      root.appendChild(scale);
      return { root: root, title: title, unit: unit, bar: bar, min: min, max: max };
    },

    _updateLegend: function () {
      var legend = this._legend;
      if (!legend) {
        return;
      }
      legend.title.textContent = this._title;
      legend.unit.textContent = this._unit;
      var range = this._currentRange();
      legend.min.textContent = formatNumber(range ? range[0] : null);
      legend.max.textContent = formatNumber(range ? range[1] : null);
      var ctx = legend.bar.getContext("2d");
      ctx.clearRect(0, 0, LEGEND_BAR_WIDTH, 1);
      if (!this._table) {
        return;
      }
      var image = ctx.createImageData(LEGEND_BAR_WIDTH, 1);
      for (var x = 0; x < LEGEND_BAR_WIDTH; x++) {
        var entry = Math.max(1, Math.round((x / (LEGEND_BAR_WIDTH - 1)) * 255)) * 4;
        image.data[x * 4] = this._table[entry];
        image.data[x * 4 + 1] = this._table[entry + 1];
        image.data[x * 4 + 2] = this._table[entry + 2];
        image.data[x * 4 + 3] = 255;
      }
      ctx.putImageData(image, 0, 0);
    }
  });

  window.CityOpsHeat = {
    MAX_POINTS: MAX_POINTS,
    layer: function (options) {
      return new HeatLayer(options);
    }
  };
})();
