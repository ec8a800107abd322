/*
 * CityOps entity markers on one canvas: tens of thousands of symbols drawn by this file's
 * code, clustered on a screen grid while zoomed out, hit-tested for hover and click. A
 * change costs a field set and one redraw on the next animation frame, however many
 * entities change at once (DOM markers and markercluster cost a tree update per move).
 *
 * It draws what it is given and decides nothing about meaning: cityops-map.js says each
 * entry's level, shape, priority number, rank and staleness, and gives the colours (by
 * the palette's names). Text drawn here is only counts and priority numbers.
 *
 * API (window.CityOpsMarkers):
 *   layer(options)       an L.Layer; options: {pane, scale, cluster: bool, clusterRadius,
 *                        unclusterAtZoom, color: function (name) -> "#rrggbb",
 *                        onClick(id), onHover(id or null), onDrawn(ms),
 *                        shapes: {name: "x,y x,y ..."}}
 * A layer:
 *   put(id, entry)       add or change an entry: {lat, lon, level, stale, shape, mark, rank}
 *   remove(id)
 *   has(id), size()
 *   redraw()             draw now; returns the milliseconds it took
 *   drawn(id)            {x, y, size, clustered: bool} where the entity is drawn (its
 *                        cluster's place when in one), null when out of view
 *   clusters()           [{x, y, count, level, stale, members}] drawn at the last redraw
 *   hit(x, y)            {id} or {cluster} under a container point, or null
 *   spots()              [{x, y, rank, id} or {x, y, rank, cluster}]: what the last redraw
 *                        drew, for going through by keyboard
 *   open(spot)           what a click on it does: onClick(id), or a cluster zoomed into
 *   lastDrawMs()         how long the last redraw took
 */
(function () {
  "use strict";

  var DOT_SIZE = 12;
  var ALARM_SIZE = 22;
  var CLUSTER_SIZE = 34;
  var BADGE_SIZE = 18;
  var FONT = "sans-serif";
  var STALE_ALPHA = 0.55;
  var FAN_SNAP = 3; // px: entities closer than this are on the same spot
  var MARK_FONT = "bold 13px " + FONT;
  var STALE_DASH = [3, 2];
  var CLUSTER_STALE_DASH = [4, 3];
  var NO_DASH = [];
  // Grid cells as numbers (column * span + row): a span of 2^26 holds every row of a cell
  // grid up to zoom 22, and the products stay exact in a double.
  var CELL_KEY_SPAN = 67108864;
  var FAN_KEY_OFFSET = 1000000; // fan-out spots are on screen: near 0, maybe negative
  var CLICK_SLOP = 4; // px: a press moved further than this is a drag, not a click
  var PRIORITY_SHAPE = { critical: "octagon", high: "diamond", medium: "triangle", low: "square" };
  var MARK_Y = { triangle: 19.5, pentagon: 17.5 };

  function parseShapes(shapes) {
    var parsed = {};
    Object.keys(shapes || {}).forEach(function (name) {
      parsed[name] = String(shapes[name])
        .split(" ")
        .map(function (pair) {
          var xy = pair.split(",");
          return [Number(xy[0]), Number(xy[1])];
        });
    });
    return parsed;
  }

  var MarkerLayer = L.Layer.extend({
    initialize: function (options) {
      var opts = options || {};
      this._pane = opts.pane || "cityopsMarkers";
      this._scale = opts.scale || 1;
      this._cluster = Boolean(opts.cluster);
      this._radius = (opts.clusterRadius || 40) * this._scale;
      this._uncluster = opts.unclusterAtZoom || 15;
      this._color = opts.color || function () {
        return "";
      };
      this._onClick = opts.onClick || function () {};
      this._onHover = opts.onHover || function () {};
      this._onDrawn = opts.onDrawn || function () {};
      this._shapes = parseShapes(opts.shapes);
      this._entries = new Map();
      this._zoom = null; // the zoom of the entries' projected points
      this._drawn = new Map(); // id -> {x, y, size, clustered}
      this._clusters = [];
      this._hits = [];
      this._frame = 0;
      this._lastMs = 0;
      this._hovered = null;
    },

    onAdd: function (map) {
      this._map = map;
      var pane = map.getPane(this._pane) || map.createPane(this._pane);
      this._canvas = L.DomUtil.create("canvas", "cityops-markers-canvas", pane);
      this._canvas.style.pointerEvents = "none";
      this._ctx = this._canvas.getContext("2d");
      map.on("moveend zoomend resize viewreset", this._viewChanged, this);
      map.on("move", this.schedule, this);
      map.on("zoomstart", this._hide, this);
      // Caught on the way down to whatever lies under a marker (an alert area, which keeps
      // its clicks to itself): a click on a marker is the marker's. Not over the map's
      // controls (zoom buttons, the base-map switcher), which lie above the markers.
      var container = map.getContainer();
      this._listeners = {
        mousedown: this._mouseDown.bind(this),
        click: this._click.bind(this),
        mousemove: this._mouseMove.bind(this)
      };
      Object.keys(this._listeners).forEach(function (name) {
        container.addEventListener(name, this._listeners[name], true);
      }, this);
      this._leave = this._mouseOut.bind(this);
      container.addEventListener("mouseleave", this._leave);
      this._viewChanged();
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._viewChanged, this);
      map.off("move", this.schedule, this);
      map.off("zoomstart", this._hide, this);
      var container = map.getContainer();
      Object.keys(this._listeners).forEach(function (name) {
        container.removeEventListener(name, this._listeners[name], true);
      }, this);
      container.removeEventListener("mouseleave", this._leave);
      if (this._frame) {
        L.Util.cancelAnimFrame(this._frame);
        this._frame = 0;
      }
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this._map = null;
    },

    put: function (id, entry) {
      var held = this._entries.get(id);
      if (held && held.lat === entry.lat && held.lon === entry.lon && held.point) {
        entry.point = held.point;
      } else {
        entry.point = null; // projected again at the next redraw
      }
      this._entries.set(id, entry);
      this.schedule();
    },

    remove: function (id) {
      if (this._entries.delete(id)) {
        this.schedule();
      }
    },

    has: function (id) {
      return this._entries.has(id);
    },

    size: function () {
      return this._entries.size;
    },

    schedule: function () {
      if (!this._frame && this._map && !this._zooming) {
        this._frame = L.Util.requestAnimFrame(this._drawFrame, this);
      }
    },

    drawn: function (id) {
      return this._drawn.get(id) || null;
    },

    clusters: function () {
      return this._clusters.map(function (c) {
        return {
          x: c.x,
          y: c.y,
          count: c.ids.length,
          level: c.level,
          stale: c.stale,
          members: c.ids.slice(0, 50)
        };
      });
    },

    lastDrawMs: function () {
      return this._lastMs;
    },

    _drawFrame: function () {
      this._frame = 0;
      this.redraw();
    },

    // While Leaflet animates a zoom, nothing is drawn and nothing can be hit: the canvas
    // comes back, redrawn, when the zoom ends.
    _hide: function () {
      this._zooming = true;
      this._hits = [];
      if (this._canvas) {
        this._canvas.style.visibility = "hidden";
      }
    },

    _viewChanged: function () {
      if (!this._map) {
        return;
      }
      this._zooming = false;
      var size = this._map.getSize();
      // The backing store at the screen's pixel density (sharp on 200 % screens and
      // walls); everything is drawn and hit-tested in CSS pixels.
      var ratio = window.devicePixelRatio || 1;
      this._ratio = ratio;
      var backing = Math.round(size.x * ratio);
      if (
        this._cssWidth !== size.x ||
        this._cssHeight !== size.y ||
        this._canvas.width !== backing
      ) {
        this._cssWidth = size.x;
        this._cssHeight = size.y;
        this._canvas.width = Math.round(size.x * ratio);
        this._canvas.height = Math.round(size.y * ratio);
        this._canvas.style.width = size.x + "px";
        this._canvas.style.height = size.y + "px";
      }
      this.redraw();
    },

    redraw: function () {
      if (!this._map || this._zooming) {
        return 0;
      }
      var start = performance.now();
      var map = this._map;
      var zoom = map.getZoom();
      var canvas = this._canvas;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      canvas.style.visibility = "";
      var origin = map.getPixelBounds().min;
      var width = this._cssWidth;
      var height = this._cssHeight;
      var reprojectAll = this._zoom !== zoom;
      this._zoom = zoom;
      var margin = CLUSTER_SIZE * this._scale;
      var visible = [];
      this._entries.forEach(function (entry, id) {
        if (reprojectAll || !entry.point) {
          entry.point = map.project([entry.lat, entry.lon], zoom);
        }
        var x = entry.point.x - origin.x;
        var y = entry.point.y - origin.y;
        if (x < -margin || y < -margin || x > width + margin || y > height + margin) {
          return;
        }
        visible.push({ id: id, entry: entry, x: x, y: y });
      });
      var clustering = this._cluster && zoom < this._uncluster;
      var singles = visible;
      var groups = [];
      if (clustering) {
        var cells = new Map();
        var cell = this._radius;
        visible.forEach(function (item) {
          // A number, not a string: thousands of keys a frame.
          var key =
            Math.floor(item.entry.point.x / cell) * CELL_KEY_SPAN +
            Math.floor(item.entry.point.y / cell);
          var group = cells.get(key);
          if (!group) {
            cells.set(key, [item]);
          } else {
            group.push(item);
          }
        });
        singles = [];
        cells.forEach(function (members) {
          if (members.length === 1) {
            singles.push(members[0]);
          } else {
            groups.push(members);
          }
        });
      }
      this._fanOut(singles);
      singles.sort(function (a, b) {
        return a.entry.rank - b.entry.rank;
      });
      var ctx = this._ctx;
      ctx.setTransform(this._ratio, 0, 0, this._ratio, 0, 0);
      ctx.globalAlpha = 1;
      ctx.setLineDash(NO_DASH);
      this._font = ctx.font;
      ctx.clearRect(0, 0, width, height);
      this._drawn = new Map();
      this._hits = [];
      this._clusters = [];
      var self = this;
      this._drawLegs();
      singles.forEach(function (item) {
        self._drawEntry(item);
      });
      groups.forEach(function (members) {
        self._drawCluster(members);
      });
      this._lastMs = performance.now() - start;
      this._onDrawn(this._lastMs);
      return this._lastMs;
    },

    // Entities drawn on the same spot (several devices at one site) are fanned out around
    // it, each with a short leg to the spot, so every one can be seen, hovered and clicked.
    _fanOut: function (singles) {
      var spots = new Map();
      singles.forEach(function (item) {
        var key =
          (Math.round(item.x / FAN_SNAP) + FAN_KEY_OFFSET) * CELL_KEY_SPAN +
          Math.round(item.y / FAN_SNAP) +
          FAN_KEY_OFFSET;
        var group = spots.get(key);
        if (!group) {
          spots.set(key, [item]);
        } else {
          group.push(item);
        }
      });
      var step = ALARM_SIZE * this._scale;
      var legs = [];
      spots.forEach(function (group) {
        if (group.length < 2) {
          return;
        }
        var cx = group[0].x;
        var cy = group[0].y;
        var radius = Math.max(step, (group.length * step) / (2 * Math.PI));
        group.forEach(function (item, index) {
          var angle = (2 * Math.PI * index) / group.length - Math.PI / 2;
          item.x = cx + radius * Math.cos(angle);
          item.y = cy + radius * Math.sin(angle);
          legs.push([cx, cy, item.x, item.y]);
        });
      });
      this._legs = legs;
    },

    _drawLegs: function () {
      var ctx = this._ctx;
      if (!this._legs || !this._legs.length) {
        return;
      }
      ctx.save();
      ctx.strokeStyle = this._color("marker-outline");
      ctx.lineWidth = 1;
      ctx.beginPath();
      this._legs.forEach(function (leg) {
        ctx.moveTo(leg[0], leg[1]);
        ctx.lineTo(leg[2], leg[3]);
      });
      ctx.stroke();
      ctx.restore();
    },

    _drawEntry: function (item) {
      var entry = item.entry;
      var alarm = Boolean(entry.mark);
      var size = Math.round((alarm ? ALARM_SIZE : DOT_SIZE) * this._scale);
      this._symbol(item.x, item.y, size, entry.shape, entry.level, entry.stale, entry.mark);
      this._drawn.set(item.id, { x: item.x, y: item.y, size: size, clustered: false });
      this._hits.push({ x: item.x, y: item.y, r: size / 2 + 2, id: item.id, rank: entry.rank });
    },

    // One symbol: the shape filled with its level's colour, outlined, with the priority's
    // number in an alarm; stale: faded and dashed.
    // Drawn without save()/restore() (thousands of symbols a frame): the transform and
    // alpha are set here and put back after; everything else is set before it is used.
    _symbol: function (cx, cy, size, shape, level, stale, mark) {
      var ctx = this._ctx;
      var scale = size / 24;
      var ratio = this._ratio;
      ctx.setTransform(
        ratio * scale,
        0,
        0,
        ratio * scale,
        ratio * (cx - size / 2),
        ratio * (cy - size / 2)
      );
      ctx.globalAlpha = stale ? STALE_ALPHA : 1;
      ctx.beginPath();
      var points = this._shapes[shape];
      if (points) {
        ctx.moveTo(points[0][0], points[0][1]);
        for (var i = 1; i < points.length; i += 1) {
          ctx.lineTo(points[i][0], points[i][1]);
        }
        ctx.closePath();
      } else {
        ctx.arc(12, 12, 10, 0, 2 * Math.PI);
      }
      ctx.fillStyle = this._color(level);
      ctx.fill();
      ctx.lineWidth = 1.5 / Math.max(scale, 0.5);
      ctx.setLineDash(stale ? STALE_DASH : NO_DASH);
      ctx.strokeStyle = this._color("marker-outline");
      ctx.stroke();
      if (mark) {
        ctx.fillStyle = this._color(level + "-text");
        if (this._font !== MARK_FONT) {
          ctx.font = MARK_FONT; // parsed on every assignment: only when it changes
          this._font = MARK_FONT;
        }
        ctx.textAlign = "center";
        ctx.textBaseline = "alphabetic";
        ctx.fillText(mark, 12, MARK_Y[shape] || 16.5);
      }
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.globalAlpha = 1;
    },

    // A grey disc with the count, its rim in the colour of its most urgent member (heavier
    // for critical) and a badge with that priority's shape and number.
    _drawCluster: function (members) {
      var ctx = this._ctx;
      var x = 0;
      var y = 0;
      var best = null;
      var lead = null; // the id of its most urgent member
      var stale = true;
      var ids = [];
      members.forEach(function (item) {
        x += item.x;
        y += item.y;
        ids.push(item.id);
        if (!item.entry.stale) {
          stale = false;
        }
        if (!best || item.entry.rank > best.rank) {
          best = item.entry;
          lead = item.id;
        }
      });
      x /= members.length;
      y /= members.length;
      var level = best.mark ? best.level : stale ? "stale" : "normal";
      var size = Math.round(CLUSTER_SIZE * this._scale);
      var radius = size / 2;
      ctx.beginPath();
      ctx.arc(x, y, radius - 2, 0, 2 * Math.PI);
      ctx.fillStyle = this._color(stale ? "stale" : "normal");
      ctx.fill();
      ctx.lineWidth = best.mark ? (best.level === "critical" ? 4 : 3) * this._scale : 2;
      ctx.setLineDash(stale ? CLUSTER_STALE_DASH : NO_DASH);
      ctx.strokeStyle = best.mark ? this._color(best.level) : this._color("marker-outline");
      ctx.stroke();
      ctx.fillStyle = this._color(stale ? "stale-text" : "normal-text");
      var font = "bold " + Math.round(13 * this._scale) + "px " + FONT;
      if (this._font !== font) {
        ctx.font = font;
        this._font = font;
      }
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(String(members.length), x, y);
      if (best.mark) {
        var badge = Math.round(BADGE_SIZE * this._scale);
        this._symbol(
          x + radius * 0.7,
          y - radius * 0.7,
          badge,
          PRIORITY_SHAPE[best.level] || "circle",
          best.level,
          false,
          best.mark
        );
      }
      var cluster = {
        x: x,
        y: y,
        ids: ids,
        lead: lead,
        level: level,
        stale: stale,
        size: size
      };
      this._clusters.push(cluster);
      var drawn = this._drawn;
      var spot = { x: x, y: y, size: size, clustered: true }; // one for all its members
      ids.forEach(function (id) {
        drawn.set(id, spot);
      });
      this._hits.push({ x: x, y: y, r: radius, cluster: cluster, rank: best.rank });
    },

    spots: function () {
      if (this._frame) {
        // A redraw is due: draw now, so that what is gone from view is not offered.
        L.Util.cancelAnimFrame(this._frame);
        this._frame = 0;
        this.redraw();
      }
      return this._hits.map(function (spot) {
        var copy = { x: spot.x, y: spot.y, rank: spot.rank };
        if (spot.id !== undefined) {
          copy.id = spot.id;
        } else {
          copy.cluster = spot.cluster;
        }
        return copy;
      });
    },

    open: function (spot) {
      if (!this._map || !spot) {
        return;
      }
      if (spot.id !== undefined) {
        this._onClick(spot.id);
      } else if (spot.cluster) {
        this._zoomInto(spot.cluster);
      }
    },

    hit: function (x, y) {
      for (var i = this._hits.length - 1; i >= 0; i -= 1) {
        var spot = this._hits[i];
        var dx = spot.x - x;
        var dy = spot.y - y;
        if (dx * dx + dy * dy <= spot.r * spot.r) {
          return spot;
        }
      }
      return null;
    },

    _point: function (event) {
      return this._map.mouseEventToContainerPoint(event);
    },

    // Whether an event is on the map itself, not on one of its controls.
    _onMap: function (event) {
      var target = event.target;
      var container = this._map.getContainer();
      return target === container || this._map.getPane("mapPane").contains(target);
    },

    _mouseDown: function (event) {
      this._downAt = this._map ? this._point(event) : null;
    },

    _mouseMove: function (event) {
      if (!this._map) {
        return;
      }
      var point = this._point(event);
      var spot = this._onMap(event) ? this.hit(point.x, point.y) : null;
      var container = this._map.getContainer();
      container.classList.toggle("cityops-over-marker", Boolean(spot));
      var id = spot && spot.id !== undefined ? spot.id : null;
      if (id !== this._hovered) {
        this._hovered = id;
        this._onHover(id);
      }
    },

    _mouseOut: function () {
      if (this._hovered !== null) {
        this._hovered = null;
        this._onHover(null);
      }
    },

    _click: function (event) {
      if (!this._map || !this._onMap(event)) {
        return;
      }
      var point = this._point(event);
      var down = this._downAt;
      if (!down || down.distanceTo(point) > CLICK_SLOP) {
        return; // the end of a drag, a box zoom or a box drawn: not a click
      }
      var spot = this.hit(point.x, point.y);
      if (!spot) {
        return;
      }
      event.stopPropagation();
      this.open(spot);
    },

    // Zoom in far enough to open a cluster (its members' box), or two steps at least.
    _zoomInto: function (cluster) {
      var entries = this._entries;
      var places = [];
      cluster.ids.forEach(function (id) {
        var entry = entries.get(id); // gone since it was drawn: left out
        if (entry) {
          places.push([entry.lat, entry.lon]);
        }
      });
      if (!places.length) {
        return;
      }
      var bounds = L.latLngBounds(places);
      var map = this._map;
      var target = Math.min(map.getBoundsZoom(bounds), map.getMaxZoom());
      if (target <= map.getZoom()) {
        target = Math.min(map.getZoom() + 2, map.getMaxZoom());
      }
      map.setView(bounds.getCenter(), target);
    }
  });

  window.CityOpsMarkers = Object.freeze({
    layer: function (options) {
      return new MarkerLayer(options);
    }
  });
})();
