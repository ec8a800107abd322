/*
 * CityOps map page logic. The app calls it with JSON data over QWebChannel (a signal with
 * a function's name and its argument) and hears about clicks, boxes and views the same way. Every string that comes from a feed is treated as data: it is
 * only ever assigned with textContent, never parsed as markup.
 *
 * Colours come from the application's palette (widgets/palette.py) as data in init's
 * options; this file and cityops-map.css hold none. Each one is also set as the CSS
 * variable --cityops-<name>, which the style sheet uses.
 *
 * High-performance (ISA-101) look: an entity with nothing wrong is a small grey symbol
 * whose shape is its entity type's (the app sends the shape: circle, square, diamond,
 * triangle, hexagon, pentagon); an alarm is the same shape, larger, in its priority's
 * colour AND with its priority's number (1 critical ... 4 low), so neither the type nor
 * the priority is told by colour alone. Clusters are grey with a rim and a badge of their
 * most urgent member (the badge is the priority's shape and number); an unacknowledged
 * priority-1 alarm has a pulsing ring. Stale markers are faded with a dashed outline.
 *
 * API (window.cityops):
 *   init(map, options)         called once by the generated page with the Leaflet map;
 *                              options: {cluster: bool, colors: {name: "#rrggbb", ...},
 *                              scale: number (size of markers and text, 1 = workstation)}
 *   applyEntities(batch)       create or update markers; returns the number of markers
 *   patchEntities(rows)        [id, severity, stale, lat, lon] rows: a marker's place,
 *                              priority or staleness changed, nothing else; returns the
 *                              number of markers
 *   removeEntities(ids)        remove markers; returns the number of markers
 *   setBoundaries(geojson)     draw a FeatureCollection as labelled outlines (null clears)
 *   setAlertAreas(items)       draw, redraw or remove external alarms' areas; items are
 *                              {id, severity, label, geojson} or {id, remove: true};
 *                              returns the number of areas
 *   workTimes()                durations (ms) of the entity calls since the last read
 *   setLayers(spec)            what is shown: {domains: {name: bool}, alarmsOnly: bool,
 *                              districts, alertAreas, geofences, tracks, heat: bool};
 *                              keys left out keep their setting; returns layersInfo()
 *   layersInfo()               {markers, shown, districts, alertAreas, geofences, tracks,
 *                              heat, alarmsOnly, hiddenDomains}
 *   setGeofences(geojson)      the alarm rules' geofences as dashed, labelled outlines
 *   setTracks(tracks)          vehicle tracks [{id, name, points: [[lat, lon], ...]}],
 *                              oldest point first, drawn on a canvas fading with age
 *   setHeat(spec)              {points: [[lat, lon, weight]], title, unit, min, max} drawn by
 *                              CityOpsHeat (cityops-heat.js) with a legend; null clears
 *   setAttention(ids)          pulsing rings around these entities (unacknowledged P1)
 *   pickBox()                  let the operator draw a box; the bridge's areaPicked gets
 *                              [west, south, east, north]
 *   markerCount()              number of entity markers
 *   markerInfo(id)             {lat, lon, color, name, stale, level, shape, mark} or null
 *   focusEntity(id)            fly to a marker (opening its cluster) and ring it; false
 *                              when there is no such marker
 *   focusInfo()                {id, lat, lon, shown, zoom} of the ringed marker, or null
 *   keyCursor()                what the keyboard cursor (N, Shift+N, Enter, Esc on the
 *                              focused map) is on: {id, said} or {cluster, said}, or null
 *   boundaryCount()            number of boundary features drawn
 *   alertAreaCount()           number of alert areas drawn
 *   alertAreaInfo(id)          {severity, color, label, shapes, radii} or null
 */
(function () {
  "use strict";

  // The palette entry that colours each level.
  var LEVEL_COLOR = {
    ok: "normal",
    stale: "stale",
    low: "low",
    medium: "medium",
    high: "high",
    critical: "critical"
  };
  var COLOR_NAME = /^[a-z][a-z0-9-]*$/;
  var COLOR_VALUE = /^#[0-9a-fA-F]{3,8}$/;
  // Cluster icons show the most urgent child: larger rank wins.
  var RANK = { stale: 0, ok: 1, low: 2, medium: 3, high: 4, critical: 5 };
  // Each alarm priority's number and shape, so that no priority is told by colour alone.
  var PRIORITY = {
    critical: { mark: "1", shape: "octagon" },
    high: { mark: "2", shape: "diamond" },
    medium: { mark: "3", shape: "triangle" },
    low: { mark: "4", shape: "square" }
  };
  // Outlines in a 24 x 24 box ("circle" is drawn as one). Entity types use circle,
  // square, diamond, triangle, hexagon and pentagon; cluster badges the priorities' shapes.
  var SHAPE_POINTS = {
    octagon: "8,1 16,1 23,8 23,16 16,23 8,23 1,16 1,8",
    diamond: "12,0.5 23.5,12 12,23.5 0.5,12",
    triangle: "12,1 23.5,22 0.5,22",
    square: "2,2 22,2 22,22 2,22",
    hexagon: "6,1.6 18,1.6 23.5,12 18,22.4 6,22.4 0.5,12",
    pentagon: "12,0.8 23.4,9.1 19,22.6 5,22.6 0.6,9.1"
  };
  // Where the priority number sits in each shape (its visual centre).
  var MARK_Y = { triangle: "19.5", pentagon: "17.5" };
  var SVG = "http://www.w3.org/2000/svg";
  // Icon sizes in CSS pixels at scale 1.
  var UNCLUSTER_ZOOM = 15; // from this zoom on every entity is drawn on its own
  var DOT_SIZE = 12;
  var ALARM_SIZE = 22;
  var FONT_SIZE = 13;

  // Alert areas: drawn below the markers (overlay pane, 400) and above district boundaries
  // (350), under the boundary labels (360) so that district names stay readable.
  var AREA_PANE = "cityopsAlertAreas";
  // The other layers' panes: each toggled by showing or hiding its pane.
  var PANES = {
    heat: ["cityopsHeat"],
    districts: ["cityopsBoundaries", "cityopsLabels"],
    alertAreas: [AREA_PANE],
    geofences: ["cityopsGeofences", "cityopsGeofenceLabels"],
    tracks: ["cityopsTracks"]
  };
  var HEAT_COLORS = ["heat-1", "heat-2", "heat-3", "heat-4", "heat-5"];
  var HEAT_RADIUS = 45; // px at scale 1: a station's measurement spreads about a district
  var TRACK_STEPS = 5; // a track is drawn as this many pieces, older ones fainter
  var SEVERITY_RANK = { low: 1, medium: 2, high: 3, critical: 4 };

  var state = {
    map: null,
    layer: null,
    clustered: false,
    markers: new Map(),
    boundaries: null,
    boundaryCount: 0,
    areas: new Map(),
    colors: {},
    scale: 1,
    bridge: null,
    openTip: null,
    bounds: null,
    basemaps: [],
    basemapControl: null,
    attribution: null,
    attributionEl: null,
    tilesLoaded: 0,
    tilesMissing: 0,
    missingTile: "",
    workTimes: [],
    drawTimes: [],
    filter: { hiddenDomains: {}, alarmsOnly: false },
    shownCount: 0,
    geofences: null,
    geofenceCount: 0,
    tracks: null,
    trackCount: 0,
    trackRenderer: null,
    heat: null,
    heatLegend: null,
    attention: new Map(),
    attentionWanted: {},
    shownBasemap: "",
    attentionLayer: null,
    picking: false,
    keySpot: null, // what the keyboard cursor is on (a spot of the marker layer)
    keyRing: null,
    announcer: null
  };

  // Keeps the colours that are #hex values under plain names, and sets each one as the
  // CSS variable --cityops-<name>; anything else is ignored.
  function setColors(colors) {
    state.colors = {};
    if (!isPlainObject(colors)) {
      console.warn("cityops: no colours given; the map is drawn without them");
      return;
    }
    var root = document.documentElement.style;
    Object.keys(colors).forEach(function (name) {
      var value = colors[name];
      if (!COLOR_NAME.test(name) || typeof value !== "string" || !COLOR_VALUE.test(value)) {
        console.warn("cityops: ignored a colour that is not a #hex value");
        return;
      }
      state.colors[name] = value;
      root.setProperty("--cityops-" + name, value);
    });
  }

  function color(name) {
    return Object.prototype.hasOwnProperty.call(state.colors, name) ? state.colors[name] : "";
  }

  function levelColor(level) {
    return color(LEVEL_COLOR[level]);
  }

  function severityLevel(severity) {
    return Object.prototype.hasOwnProperty.call(PRIORITY, severity) ? severity : "ok";
  }

  // A stale marker keeps the colour of its last known alarm (so the operator still sees
  // it) but is drawn faded with a dashed grey outline; stale without an alarm is grey.
  function levelOf(item) {
    var base = severityLevel(item.severity);
    if (!item.stale) {
      return base;
    }
    return base === "ok" ? "stale" : base + ":stale";
  }

  function baseLevel(level) {
    return level.split(":")[0];
  }

  function isStale(level) {
    return level === "stale" || level.indexOf(":stale") > 0;
  }

  // An entity type's shape as the app names it ("circle" for anything unknown).
  function shapeName(value) {
    return Object.prototype.hasOwnProperty.call(SHAPE_POINTS, value) ? value : "circle";
  }

  // Alarms are drawn over normal markers, the most urgent on top.
  function rankOf(level) {
    return RANK[baseLevel(level)] || 0;
  }

  function textOf(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function addText(parent, tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    el.textContent = text;
    parent.appendChild(el);
    return el;
  }

  // Words the page writes, in the UI's language (init's options.texts; English otherwise).
  var TEXTS = {
    noRecentData: "no recent data",
    alarm: "alarm: {severity} (priority {priority})",
    low: "low",
    medium: "medium",
    high: "high",
    critical: "critical",
    cluster: "{count} entities here",
    nothingHere: "no markers in view"
  };

  function setTexts(texts) {
    if (!isPlainObject(texts)) {
      return;
    }
    Object.keys(TEXTS).forEach(function (key) {
      if (typeof texts[key] === "string" && texts[key]) {
        TEXTS[key] = texts[key];
      }
    });
  }

  function alarmText(severity) {
    var priority = PRIORITY[severity];
    var name = Object.prototype.hasOwnProperty.call(TEXTS, severity) ? TEXTS[severity] : "";
    return TEXTS.alarm
      .replace("{severity}", name || textOf(severity))
      .replace("{priority}", priority ? priority.mark : "?");
  }

  function fillTooltip(el, item) {
    el.replaceChildren();
    addText(el, "div", "cityops-tip-name", textOf(item.name) || textOf(item.id));
    var kind = [textOf(item.type), textOf(item.domain)].filter(Boolean).join(" \u00b7 ");
    if (kind) {
      addText(el, "div", "cityops-tip-kind", kind);
    }
    if (item.stale) {
      addText(el, "div", "cityops-tip-stale", TEXTS.noRecentData);
    } else if (item.severity) {
      addText(el, "div", "cityops-tip-alarm", alarmText(item.severity));
    }
    var values = item.values && typeof item.values === "object" ? item.values : {};
    var metrics = Object.keys(values).sort();
    if (metrics.length) {
      var table = document.createElement("table");
      table.className = "cityops-tip-values";
      metrics.forEach(function (metric) {
        var row = table.insertRow();
        var key = row.insertCell();
        key.textContent = metric;
        var val = row.insertCell();
        val.textContent = textOf(values[metric]);
      });
      el.appendChild(table);
    }
  }

  function validLatLon(lat, lon) {
    return typeof lat === "number" && typeof lon === "number" && isFinite(lat) && isFinite(lon);
  }

  function validItem(item) {
    return (
      item !== null &&
      typeof item === "object" &&
      typeof item.id === "string" &&
      validLatLon(item.lat, item.lon)
    );
  }

  // One entity on the map: its data, drawn by the canvas marker layer; it answers as a
  // Leaflet marker would for the few things the page and its tests ask of one.
  function Entry(item, level) {
    this.cityops = {
      id: item.id,
      item: item,
      level: level,
      shape: shapeName(item.shape),
      shown: false
    };
  }

  Entry.prototype.getLatLng = function () {
    return L.latLng(this.cityops.item.lat, this.cityops.item.lon);
  };

  Entry.prototype.isTooltipOpen = function () {
    return state.openTip === this;
  };

  Entry.prototype.openTooltip = function () {
    showTooltip(this);
    return this;
  };

  Entry.prototype.closeTooltip = function () {
    if (state.openTip === this) {
      hideTooltip();
    }
    return this;
  };

  // What the canvas layer draws for an entry: palette names for the colours.
  function drawnEntry(entry) {
    var info = entry.cityops;
    var base = baseLevel(info.level);
    var priority = PRIORITY[base];
    return {
      lat: info.item.lat,
      lon: info.item.lon,
      level: LEVEL_COLOR[base] || "normal",
      stale: isStale(info.level),
      shape: info.shape,
      mark: priority ? priority.mark : "",
      rank: rankOf(info.level)
    };
  }

  // The one tooltip: opened over the entry under the pointer (or asked for by the app's
  // tests), its text rebuilt when it opens and while it stays open.
  function showTooltip(entry) {
    var info = entry.cityops;
    var size = PRIORITY[baseLevel(info.level)] ? ALARM_SIZE : DOT_SIZE;
    if (!state.tooltip) {
      state.tipBody = document.createElement("div");
      state.tipBody.className = "cityops-tip-body";
      state.tooltip = L.tooltip({ direction: "top", className: "cityops-tip" });
    }
    state.tooltip.options.offset = L.point(0, -Math.round((size * state.scale) / 2));
    fillTooltip(state.tipBody, info.item);
    state.tooltip.setContent(state.tipBody);
    state.tooltip.setLatLng(entry.getLatLng());
    state.openTip = entry;
    state.map.openTooltip(state.tooltip);
    askValues(entry);
  }

  function hideTooltip() {
    if (state.tooltip) {
      state.map.closeTooltip(state.tooltip);
    }
    state.openTip = null;
  }

  function askValues(entry) {
    if (!state.bridge || typeof state.bridge.tooltipValues !== "function") {
      return;
    }
    var id = entry.cityops.id;
    state.bridge.tooltipValues(id, function (text) {
      var values;
      try {
        values = JSON.parse(text || "{}");
      } catch (err) {
        return;
      }
      var info = entry.cityops;
      if (!values || typeof values !== "object" || !Object.keys(values).length) {
        return; // nothing kept by the app: the values sent with the marker stay
      }
      info.item = Object.assign({}, info.item, { values: values });
      if (state.openTip === entry) {
        fillTooltip(state.tipBody, info.item);
      }
    });
  }

  function onHover(id) {
    var entry = id === null ? null : state.markers.get(id);
    if (entry) {
      showTooltip(entry);
    } else if (state.openTip) {
      hideTooltip();
    }
  }

  function onClick(id) {
    if (state.bridge && state.markers.has(id)) {
      state.bridge.entityClicked(id);
    }
  }

  // Whether the layer settings let a marker be drawn: its domain not hidden, and an
  // alarm when only alarms are shown.
  function passes(info) {
    var group = textOf(info.item.group);
    if (Object.prototype.hasOwnProperty.call(state.filter.hiddenDomains, group)) {
      return false;
    }
    return !state.filter.alarmsOnly || Boolean(PRIORITY[baseLevel(info.level)]);
  }

  // How long each applyEntities/removeEntities call took (ms, performance.now()), and each
  // redraw of the marker canvas, kept until read with workTimes(): the map benchmark's
  // figures of the page's own work.
  function timed(work) {
    return function (arg) {
      var start = performance.now();
      try {
        return work(arg);
      } finally {
        keepTime(state.workTimes, performance.now() - start);
      }
    };
  }

  function keepTime(times, ms) {
    times.push(ms);
    if (times.length > 10000) {
      times.splice(0, times.length - 10000);
    }
  }

  function workTimes() {
    var times = state.workTimes;
    state.workTimes = [];
    return times;
  }

  function drawTimes() {
    var times = state.drawTimes;
    state.drawTimes = [];
    return times;
  }

  // Hands entries to the canvas layer, or takes them off it, as the layer settings say.
  function showMarkers(entries) {
    entries.forEach(function (entry) {
      var info = entry.cityops;
      var wanted = passes(info);
      if (wanted) {
        state.layer.put(info.id, drawnEntry(entry));
      } else if (info.shown) {
        state.layer.remove(info.id);
        if (state.openTip === entry) {
          hideTooltip();
        }
      }
      if (wanted !== info.shown) {
        state.shownCount += wanted ? 1 : -1;
      }
      info.shown = wanted;
      followKeyCursor(info.id, entry);
    });
  }

  function applyEntities(batch) {
    if (!state.map || !Array.isArray(batch)) {
      return state.markers.size;
    }
    var touched = [];
    batch.forEach(function (item) {
      if (!validItem(item)) {
        console.warn("cityops: ignored an invalid map entity");
        return;
      }
      var level = levelOf(item);
      var entry = state.markers.get(item.id);
      if (!entry) {
        entry = new Entry(item, level);
        state.markers.set(item.id, entry);
      } else {
        entry.cityops.item = item;
        entry.cityops.level = level;
        entry.cityops.shape = shapeName(item.shape);
      }
      touched.push(entry);
    });
    redrawTouched(touched);
    return state.markers.size;
  }

  // Rows [id, severity, stale, lat, lon] for markers whose place, priority or staleness
  // changed and nothing else (most changes of a busy city: vehicles moving, alarms coming
  // and going; a fraction of a full record to send and read). A row without a usable place
  // keeps the marker where it is.
  function patchEntities(rows) {
    if (!state.map || !Array.isArray(rows)) {
      return state.markers.size;
    }
    var touched = [];
    rows.forEach(function (row) {
      var entry = Array.isArray(row) ? state.markers.get(row[0]) : undefined;
      if (!entry) {
        return;
      }
      var item = entry.cityops.item;
      item.severity = typeof row[1] === "string" ? row[1] : null;
      item.stale = row[2] === true;
      if (validLatLon(row[3], row[4])) {
        item.lat = row[3];
        item.lon = row[4];
      }
      entry.cityops.level = levelOf(item);
      touched.push(entry);
    });
    redrawTouched(touched);
    return state.markers.size;
  }

  function redrawTouched(touched) {
    touched.forEach(function (entry) {
      if (state.openTip === entry) {
        showTooltip(entry);
      }
    });
    showMarkers(touched);
    touched.forEach(function (entry) {
      var id = entry.cityops.id;
      syncRing(id);
      if (state.focused === id && state.focusRing) {
        state.focusRing.setLatLng(entry.getLatLng());
      }
    });
  }

  // The keyboard cursor stays on its marker: it moves with it, and lets go when the
  // marker goes or is hidden by the layer settings.
  function followKeyCursor(id, entry) {
    if (!state.keySpot || state.keySpot.id !== id) {
      return;
    }
    if (entry && entry.cityops.shown) {
      state.keyRing.setLatLng(entry.getLatLng());
    } else {
      clearKeyCursor();
      announce("");
    }
  }

  function removeEntities(ids) {
    if (!state.map || !Array.isArray(ids)) {
      return state.markers.size;
    }
    ids.forEach(function (id) {
      var entry = state.markers.get(id);
      if (entry) {
        if (entry.cityops.shown) {
          state.layer.remove(id);
          state.shownCount -= 1;
        }
        if (state.openTip === entry) {
          hideTooltip();
        }
        state.markers.delete(id);
      }
      followKeyCursor(id, null);
      syncRing(id);
      if (state.focused === id && state.focusRing) {
        state.map.removeLayer(state.focusRing);
        state.focusRing = null;
      }
    });
    return state.markers.size;
  }

  // -- layers ------------------------------------------------------------------------------

  function setPaneShown(names, shown) {
    names.forEach(function (name) {
      var pane = state.map.getPane(name);
      if (pane) {
        pane.style.display = shown ? "" : "none";
      }
    });
    if (names === PANES.heat && state.heatLegend) {
      state.heatLegend.getContainer().style.display = shown ? "" : "none";
    }
  }

  function paneShown(names) {
    var pane = state.map.getPane(names[0]);
    return Boolean(pane) && pane.style.display !== "none";
  }

  function setLayers(spec) {
    if (!state.map || !isPlainObject(spec)) {
      return layersInfo();
    }
    var refilter = false;
    if (isPlainObject(spec.domains)) {
      Object.keys(spec.domains).forEach(function (name) {
        var hidden = spec.domains[name] === false;
        var was = Object.prototype.hasOwnProperty.call(state.filter.hiddenDomains, name);
        if (hidden && !was) {
          state.filter.hiddenDomains[name] = true;
          refilter = true;
        } else if (!hidden && was) {
          delete state.filter.hiddenDomains[name];
          refilter = true;
        }
      });
    }
    if (typeof spec.alarmsOnly === "boolean" && spec.alarmsOnly !== state.filter.alarmsOnly) {
      state.filter.alarmsOnly = spec.alarmsOnly;
      refilter = true;
    }
    if (refilter) {
      showMarkers(Array.from(state.markers.values()));
      Object.keys(state.attentionWanted).forEach(syncRing);
    }
    Object.keys(PANES).forEach(function (name) {
      if (typeof spec[name] === "boolean") {
        setPaneShown(PANES[name], spec[name]);
      }
    });
    return layersInfo();
  }

  function layersInfo() {
    var info = {
      markers: state.markers.size,
      shown: state.shownCount,
      alarmsOnly: state.filter.alarmsOnly,
      hiddenDomains: Object.keys(state.filter.hiddenDomains).sort(),
      geofenceCount: state.geofenceCount,
      trackCount: state.trackCount,
      attention: state.attention.size,
      heatPoints: state.heat ? state.heat.info().points : 0
    };
    if (state.map) {
      Object.keys(PANES).forEach(function (name) {
        info[name] = paneShown(PANES[name]);
      });
    }
    return info;
  }

  // Outlines with labels in their panes; shared by district boundaries and geofences.
  function outlineLayer(geojson, pane, labelPane, labelClass, style) {
    var group = L.layerGroup();
    var labels = [];
    var count = 0;
    L.geoJSON(geojson, {
      pane: pane,
      interactive: false,
      style: function () {
        return style;
      },
      onEachFeature: function (feature, layer) {
        count += 1;
        var name = featureName(feature.properties);
        if (!name || !layer.getBounds) {
          return;
        }
        var el = document.createElement("span");
        el.textContent = name;
        labels.push(
          L.tooltip({
            permanent: true,
            direction: "center",
            interactive: false,
            pane: labelPane,
            className: labelClass
          })
            .setLatLng(labelPoint(feature.properties, layer))
            .setContent(el)
        );
      }
    }).addTo(group);
    labels.forEach(function (label) {
      group.addLayer(label);
    });
    return { group: group, count: count };
  }

  function setGeofences(geojson) {
    if (!state.map) {
      return 0;
    }
    if (state.geofences) {
      state.map.removeLayer(state.geofences);
      state.geofences = null;
      state.geofenceCount = 0;
    }
    if (!isPlainObject(geojson)) {
      return 0;
    }
    var drawn = outlineLayer(
      geojson,
      "cityopsGeofences",
      "cityopsGeofenceLabels",
      "cityops-geofence-label",
      {
        color: color("boundary-line"),
        weight: 2.5,
        opacity: 0.9,
        dashArray: "10 6",
        fill: false
      }
    );
    drawn.group.addTo(state.map);
    state.geofences = drawn.group;
    state.geofenceCount = drawn.count;
    return drawn.count;
  }

  function validPoint(point) {
    return (
      Array.isArray(point) &&
      point.length >= 2 &&
      typeof point[0] === "number" &&
      typeof point[1] === "number" &&
      isFinite(point[0]) &&
      isFinite(point[1])
    );
  }

  // A track in TRACK_STEPS pieces, the oldest faintest, the newest solid; its name is in
  // its tooltip (as text).
  function trackLayer(track) {
    var points = track.points.filter(validPoint).map(function (p) {
      return [p[0], p[1]];
    });
    if (points.length < 2) {
      return null;
    }
    var group = L.featureGroup();
    var steps = Math.min(TRACK_STEPS, points.length - 1);
    var per = (points.length - 1) / steps;
    for (var step = 0; step < steps; step += 1) {
      var from = Math.floor(step * per);
      var to = step === steps - 1 ? points.length - 1 : Math.floor((step + 1) * per);
      L.polyline(points.slice(from, to + 1), {
        renderer: state.trackRenderer,
        pane: "cityopsTracks",
        color: color("track"),
        weight: 3 * state.scale,
        opacity: 0.2 + (0.75 * (step + 1)) / steps,
        lineCap: "round",
        lineJoin: "round"
      }).addTo(group);
    }
    var tip = document.createElement("span");
    tip.textContent = textOf(track.name) || textOf(track.id);
    group.bindTooltip(tip, { sticky: true, className: "cityops-tip" });
    group.cityops = { id: textOf(track.id), name: tip.textContent, points: points.length };
    return group;
  }

  function setTracks(tracks) {
    if (!state.map) {
      return 0;
    }
    if (state.tracks) {
      state.map.removeLayer(state.tracks);
    }
    state.tracks = L.layerGroup();
    state.trackCount = 0;
    (Array.isArray(tracks) ? tracks : []).forEach(function (track) {
      if (!isPlainObject(track) || !Array.isArray(track.points)) {
        return;
      }
      var layer = trackLayer(track);
      if (layer) {
        state.tracks.addLayer(layer);
        state.trackCount += 1;
      }
    });
    state.tracks.addTo(state.map);
    return state.trackCount;
  }

  // For tests: each track's {id, name, points}.
  function trackInfo() {
    if (!state.tracks) {
      return [];
    }
    return state.tracks.getLayers().map(function (layer) {
      return layer.cityops;
    });
  }

  function setHeat(spec) {
    if (!state.map) {
      return 0;
    }
    if (!isPlainObject(spec) || !Array.isArray(spec.points)) {
      if (state.heat) {
        state.map.removeLayer(state.heat);
        state.heat = null;
      }
      if (state.heatLegend) {
        state.map.removeControl(state.heatLegend);
        state.heatLegend = null;
      }
      return 0;
    }
    if (typeof window.CityOpsHeat === "undefined") {
      console.warn("cityops: the heat layer's script is missing");
      return 0;
    }
    if (!state.heat) {
      state.heat = window.CityOpsHeat.layer({
        pane: "cityopsHeat",
        colors: HEAT_COLORS.map(color),
        radius: Math.round(HEAT_RADIUS * state.scale),
        opacity: 0.8
      }).addTo(state.map);
      var legend = L.control({ position: "bottomleft" });
      legend.onAdd = function () {
        return state.heat.legend();
      };
      state.heatLegend = legend.addTo(state.map);
    }
    state.heat.setLegend(textOf(spec.title), textOf(spec.unit));
    if (typeof spec.min === "number" && typeof spec.max === "number") {
      state.heat.setRange(spec.min, spec.max);
    }
    state.heat.setPoints(spec.points);
    setPaneShown(PANES.heat, paneShown(PANES.heat));
    return state.heat.info().points;
  }

  // Pulsing rings (unacknowledged priority-1 alarms), below the markers.
  // Pulsing rings (unacknowledged priority-1 alarms), below the markers. The wish is kept
  // per id: a ring appears when its entity reaches the map or is shown again, and goes
  // while the entity is hidden by the layer settings or gone.
  function setAttention(ids) {
    if (!state.map || !Array.isArray(ids)) {
      return state.attention.size;
    }
    var previous = state.attentionWanted;
    state.attentionWanted = {};
    ids.forEach(function (id) {
      if (typeof id === "string") {
        state.attentionWanted[id] = true;
      }
    });
    Object.keys(previous).concat(Object.keys(state.attentionWanted)).forEach(syncRing);
    return state.attention.size;
  }

  function syncRing(id) {
    var entry = state.markers.get(id);
    var wanted =
      Object.prototype.hasOwnProperty.call(state.attentionWanted, id) &&
      Boolean(entry) &&
      entry.cityops.shown;
    var ring = state.attention.get(id);
    if (!wanted) {
      if (ring) {
        state.attentionLayer.removeLayer(ring);
        state.attention.delete(id);
      }
      return;
    }
    if (ring) {
      ring.setLatLng(entry.getLatLng());
      return;
    }
    var size = Math.round(2 * ALARM_SIZE * state.scale);
    ring = L.marker(entry.getLatLng(), {
      icon: L.divIcon({
        // Leaflet places the icon with a transform, so the pulse scales an inner ring.
        html: L.DomUtil.create("div", "cityops-attention-ring"),
        className: "cityops-attention",
        iconSize: L.point(size, size)
      }),
      pane: "cityopsAttention",
      interactive: false,
      keyboard: false
    });
    state.attentionLayer.addLayer(ring);
    state.attention.set(id, ring);
  }

  function featureName(props) {
    if (!props || typeof props !== "object") {
      return "";
    }
    return textOf(props.name || props.NAME || props.label || "");
  }

  function labelPoint(props, layer) {
    var point = props && (props.centroid || props.center);
    if (
      Array.isArray(point) &&
      point.length >= 2 &&
      typeof point[0] === "number" &&
      typeof point[1] === "number"
    ) {
      return L.latLng(point[1], point[0]);
    }
    return layer.getBounds().getCenter();
  }

  function setBoundaries(geojson) {
    if (!state.map) {
      return 0;
    }
    if (state.boundaries) {
      state.map.removeLayer(state.boundaries);
      state.boundaries = null;
      state.boundaryCount = 0;
    }
    if (!geojson || typeof geojson !== "object") {
      return 0;
    }
    var drawn = outlineLayer(geojson, "cityopsBoundaries", "cityopsLabels", "cityops-boundary-label", {
      color: color("boundary-line"),
      weight: 1.5,
      opacity: 0.8,
      fill: true,
      fillColor: color("boundary-fill"),
      fillOpacity: 0.25
    });
    drawn.group.addTo(state.map);
    state.boundaries = drawn.group;
    state.boundaryCount = drawn.count;
    return drawn.count;
  }

  function areaLevel(severity) {
    var level = severityLevel(severity);
    return level === "ok" ? "low" : level;
  }

  // An outline and a light hatch in the priority's colour: a warning over half the city
  // does not tint it all. A critical area has a heavier outline, so it differs from a high
  // one without colour too (its tooltip names the priority).
  function areaStyle(level) {
    return {
      color: levelColor(level),
      weight: level === "critical" ? 4 : 2,
      opacity: 0.9,
      fill: true,
      fillColor: "url(#cityops-hatch-" + level + ")",
      fillOpacity: 1
    };
  }

  // The hatch patterns of the alert areas, one per priority, in a hidden SVG of the page
  // (a fill may point at a pattern anywhere in the document).
  function addHatches() {
    var holder = document.createElementNS(SVG, "svg");
    holder.setAttribute("width", "0");
    holder.setAttribute("height", "0");
    holder.setAttribute("aria-hidden", "true");
    holder.style.position = "absolute";
    var defs = document.createElementNS(SVG, "defs");
    Object.keys(PRIORITY).forEach(function (level) {
      var pattern = document.createElementNS(SVG, "pattern");
      pattern.setAttribute("id", "cityops-hatch-" + level);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", "12");
      pattern.setAttribute("height", "12");
      pattern.setAttribute("patternTransform", "rotate(45)");
      var line = document.createElementNS(SVG, "line");
      line.setAttribute("x1", "0");
      line.setAttribute("y1", "0");
      line.setAttribute("x2", "0");
      line.setAttribute("y2", "12");
      line.setAttribute("stroke", levelColor(level));
      line.setAttribute("stroke-width", "3");
      line.setAttribute("stroke-opacity", "0.35");
      pattern.appendChild(line);
      defs.appendChild(pattern);
    });
    holder.appendChild(defs);
    document.body.appendChild(holder);
  }

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function circleRadiusKm(feature) {
    var props = feature.properties;
    var km = isPlainObject(props) ? props.radius_km : undefined;
    return typeof km === "number" && isFinite(km) && km >= 0 ? km : null;
  }

  function drawableFeature(feature) {
    if (!isPlainObject(feature) || !isPlainObject(feature.geometry)) {
      return false;
    }
    switch (feature.geometry.type) {
      case "Polygon":
      case "MultiPolygon":
        return (
          Array.isArray(feature.geometry.coordinates) && feature.geometry.coordinates.length > 0
        );
      case "Point":
        return circleRadiusKm(feature) !== null;
      default:
        return false;
    }
  }

  function areaFeatures(geojson) {
    if (!isPlainObject(geojson)) {
      return [];
    }
    if (geojson.type === "FeatureCollection") {
      return Array.isArray(geojson.features) ? geojson.features : [];
    }
    return geojson.type === "Feature" ? [geojson] : [];
  }

  function fillAreaTooltip(el, item, descriptions) {
    el.replaceChildren();
    addText(el, "div", "cityops-tip-name", textOf(item.label) || textOf(item.id));
    var priority = PRIORITY[item.severity];
    addText(
      el,
      "div",
      "cityops-tip-alarm",
      "alert: " + textOf(item.severity) + (priority ? " (priority " + priority.mark + ")" : "")
    );
    descriptions.forEach(function (text) {
      addText(el, "div", "cityops-tip-area", text);
    });
  }

  // Builds the layer of one area; returns null when none of its features can be drawn.
  function buildArea(item) {
    var level = areaLevel(item.severity);
    var radii = [];
    var descriptions = [];
    var shapes = 0;
    var group = L.geoJSON(null, {
      pane: AREA_PANE,
      interactive: true,
      bubblingMouseEvents: false,
      style: function () {
        return areaStyle(level);
      },
      pointToLayer: function (feature, latlng) {
        var metres = circleRadiusKm(feature) * 1000;
        return L.circle(latlng, {
          radius: metres,
          pane: AREA_PANE,
          interactive: true,
          bubblingMouseEvents: false
        });
      }
    });
    areaFeatures(item.geojson).forEach(function (feature) {
      if (!drawableFeature(feature)) {
        console.warn("cityops: ignored an alert area shape that cannot be drawn");
        return;
      }
      var before = group.getLayers().length;
      try {
        group.addData(feature);
      } catch (err) {
        console.warn("cityops: ignored a malformed alert area shape: " + err);
        return;
      }
      if (group.getLayers().length === before) {
        return;
      }
      shapes += 1;
      if (feature.geometry.type === "Point") {
        radii.push(circleRadiusKm(feature) * 1000);
      }
      var desc = isPlainObject(feature.properties) ? textOf(feature.properties.areaDesc) : "";
      if (desc && descriptions.indexOf(desc) < 0) {
        descriptions.push(desc);
      }
    });
    if (!shapes) {
      return null;
    }
    var tip = document.createElement("div");
    tip.className = "cityops-tip-body";
    fillAreaTooltip(tip, item, descriptions);
    group.bindTooltip(tip, {
      sticky: true,
      direction: "top",
      className: "cityops-tip cityops-area-tip"
    });
    group.on("click", function () {
      if (state.bridge) {
        state.bridge.alertAreaClicked(item.id);
      }
    });
    group.cityops = {
      id: item.id,
      severity: textOf(item.severity),
      label: textOf(item.label),
      level: level,
      shapes: shapes,
      radii: radii
    };
    return group;
  }

  function removeArea(id) {
    var old = state.areas.get(id);
    if (old) {
      state.map.removeLayer(old);
      state.areas.delete(id);
    }
  }

  // More urgent areas are drawn on top, so that they get the hover and the click.
  function stackAreas() {
    var ordered = Array.from(state.areas.values()).sort(function (a, b) {
      return (SEVERITY_RANK[a.cityops.severity] || 0) - (SEVERITY_RANK[b.cityops.severity] || 0);
    });
    ordered.forEach(function (group) {
      group.bringToFront();
    });
  }

  function setAlertAreas(items) {
    if (!state.map || !Array.isArray(items)) {
      return state.areas.size;
    }
    var changed = false;
    items.forEach(function (item) {
      if (!isPlainObject(item) || typeof item.id !== "string") {
        console.warn("cityops: ignored an invalid alert area");
        return;
      }
      if (item.remove === true) {
        changed = state.areas.has(item.id) || changed;
        removeArea(item.id);
        return;
      }
      var group = null;
      try {
        group = buildArea(item);
      } catch (err) {
        console.error("cityops: could not draw alert area: " + err);
      }
      removeArea(item.id);
      changed = true;
      if (group) {
        group.addTo(state.map);
        state.areas.set(item.id, group);
      } else {
        console.warn("cityops: alert area has nothing to draw");
      }
    });
    if (changed) {
      stackAreas();
    }
    return state.areas.size;
  }

  function alertAreaInfo(id) {
    var group = state.areas.get(id);
    if (!group) {
      return null;
    }
    var info = group.cityops;
    return {
      severity: info.severity,
      color: levelColor(info.level),
      label: info.label,
      shapes: info.shapes,
      radii: info.radii.slice()
    };
  }

  function markerInfo(id) {
    var marker = state.markers.get(id);
    if (!marker) {
      return null;
    }
    var ll = marker.getLatLng();
    var base = baseLevel(marker.cityops.level);
    var priority = PRIORITY[base];
    return {
      lat: ll.lat,
      lon: ll.lng,
      color: levelColor(base),
      name: textOf(marker.cityops.item.name),
      stale: Boolean(marker.cityops.item.stale),
      level: base,
      shape: marker.cityops.shape,
      mark: priority ? priority.mark : "",
      shown: marker.cityops.shown
    };
  }

  // The ring that marks the entity the operator located (one at a time).
  function ringMarker(id, entry) {
    if (state.focusRing) {
      state.map.removeLayer(state.focusRing);
    }
    state.focusRing = L.circleMarker(entry.getLatLng(), {
      radius: 17,
      weight: 4,
      dashArray: "6 4",
      fill: false,
      color: color("marker-outline"),
      interactive: false,
      className: "cityops-focus"
    }).addTo(state.map);
    state.focused = id;
  }

  // Flies to an entity close enough that it is drawn on its own (not in a cluster), and
  // rings it.
  function focusEntity(id) {
    var key = String(id);
    var entry = state.markers.get(key);
    if (!entry || !state.map) {
      return false;
    }
    var zoom = Math.max(state.map.getZoom(), state.clustered ? UNCLUSTER_ZOOM : 15);
    state.map.setView(entry.getLatLng(), Math.min(zoom, state.map.getMaxZoom()), {
      animate: false
    });
    state.layer.redraw();
    ringMarker(key, entry);
    return true;
  }

  function focusInfo() {
    var entry = state.focused ? state.markers.get(state.focused) : null;
    if (!entry) {
      return null;
    }
    var ll = entry.getLatLng();
    var drawn = state.layer.drawn(state.focused);
    // Shown: drawn on its own, not folded into a cluster.
    var shown = Boolean(drawn) && !drawn.clustered;
    return { id: state.focused, lat: ll.lat, lon: ll.lng, shown: shown, zoom: state.map.getZoom() };
  }

  function connectBridge() {
    if (typeof QWebChannel === "undefined" || !window.qt || !window.qt.webChannelTransport) {
      console.warn("cityops: no Qt web channel; clicks will not reach the application");
      return;
    }
    new QWebChannel(window.qt.webChannelTransport, function (channel) {
      state.bridge = channel.objects.bridge;
      // The app's calls come as data over the channel: {name, JSON text}.
      state.bridge.call.connect(function (name, text) {
        var api = window.cityops;
        if (!Object.prototype.hasOwnProperty.call(api, name) || typeof api[name] !== "function") {
          console.warn("cityops: the app called an unknown function");
          return;
        }
        var argument;
        try {
          argument = JSON.parse(text);
        } catch (err) {
          console.error("cityops: unreadable data from the app: " + err);
          return;
        }
        api[name](argument);
      });
      state.bridge.ready();
      tellView();
      state.map.on("moveend", tellView);
      setInterval(function () {
        if (state.openTip) {
          askValues(state.openTip);
        }
      }, 1000);
    });
  }

  // Base maps: tiles from the app's own scheme (cityops://app/tiles/<name>/z/x/y), the first
  // shown, a switcher when there are several; a tile nobody has is a hatched placeholder.
  // The placeholder, in the theme's stale and normal greys (the page holds no colours).
  function missingTile() {
    var back = String(state.colors.stale || "");
    var line = String(state.colors.normal || "");
    return (
      "data:image/svg+xml," +
      encodeURIComponent(
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">' +
          '<rect width="256" height="256" fill="' + back + '"/>' +
          '<path d="M0 256L256 0M-64 64L64 -64M192 320L320 192" stroke="' + line +
          '" stroke-width="16"/></svg>'
      )
    );
  }

  function plain(text) {
    var holder = document.createElement("span");
    holder.textContent = String(text);
    return holder.innerHTML;
  }

  function setBasemaps(list) {
    var map = state.map;
    if (!map) {
      return 0;
    }
    state.basemaps.forEach(function (layer) {
      map.removeLayer(layer);
    });
    if (state.basemapControl) {
      map.removeControl(state.basemapControl);
      state.basemapControl = null;
    }
    state.basemaps = [];
    state.missingTile = missingTile();
    var named = {};
    (Array.isArray(list) ? list : []).forEach(function (item) {
      if (!item || typeof item.name !== "string" || !item.name) {
        return;
      }
      var layer = L.tileLayer(
        "cityops://app/tiles/" + encodeURIComponent(item.name) + "/{z}/{x}/{y}",
        {
          minZoom: Number(item.minZoom) || 0,
          maxZoom: Number(item.maxZoom) || 18,
          errorTileUrl: state.missingTile
        }
      );
      layer.cityops = { name: item.name, attribution: String(item.attribution || "") };
      layer.on("tileload", function (event) {
        if (event.tile && event.tile.src !== state.missingTile) {
          state.tilesLoaded += 1;
        }
      });
      layer.on("tileerror", function () {
        state.tilesMissing += 1;
      });
      named[plain(item.name)] = layer;
      state.basemaps.push(layer);
    });
    if (state.basemaps.length) {
      var shown = state.basemaps.filter(function (layer) {
        return layer.cityops.name === state.shownBasemap;
      })[0] || state.basemaps[0];
      shown.addTo(map);
      showAttribution(shown);
      state.shownBasemap = shown.cityops.name;
      if (state.bridge && typeof state.bridge.basemapChanged === "function") {
        state.bridge.basemapChanged(state.shownBasemap);
      }
    }
    if (state.basemaps.length > 1) {
      state.basemapControl = L.control.layers(named, null, { collapsed: true }).addTo(map);
    }
    return state.basemaps.length;
  }

  function showAttribution(layer) {
    if (!state.attribution) {
      var control = L.control({ position: "bottomright" });
      control.onAdd = function () {
        var el = L.DomUtil.create("div", "cityops-attribution");
        state.attributionEl = el;
        return el;
      };
      state.attribution = control.addTo(state.map);
      state.map.on("baselayerchange", function (event) {
        showAttribution(event.layer);
        state.shownBasemap = event.layer.cityops ? event.layer.cityops.name : "";
        if (state.bridge && typeof state.bridge.basemapChanged === "function") {
          state.bridge.basemapChanged(state.shownBasemap);
        }
      });
    }
    state.attributionEl.textContent = (layer.cityops && layer.cityops.attribution) || "";
  }

  function tileCounts() {
    return { loaded: state.tilesLoaded, missing: state.tilesMissing, basemaps: state.basemaps.length };
  }

  // A fixed view (a dashboard's or a wall's map): [west, south, east, north], kept in view
  // when the map is resized, panning and zooming off.
  function showBounds(bounds) {
    var b = Array.isArray(bounds) ? bounds.map(Number) : [];
    if (b.length !== 4 || !b.every(isFinite) || b[0] >= b[2] || b[1] >= b[3]) {
      return false;
    }
    state.bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    var map = state.map;
    map.fitBounds(state.bounds, { animate: false });
    map.dragging.disable();
    map.scrollWheelZoom.disable();
    map.doubleClickZoom.disable();
    map.boxZoom.disable();
    map.keyboard.disable();
    if (map.zoomControl) {
      map.removeControl(map.zoomControl);
    }
    return true;
  }

  function viewBounds() {
    var b = state.map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  }

  // The operator draws a box (press, drag, release) for the app (a tile set's area); Esc or
  // a click without dragging gives up. The map does not pan meanwhile.
  function pickBox() {
    var map = state.map;
    if (!map || state.picking) {
      return false;
    }
    state.picking = true;
    var container = map.getContainer();
    var wasDragging = map.dragging.enabled();
    map.dragging.disable();
    container.classList.add("cityops-picking");
    var start = null;
    var box = null;
    function finish(bounds) {
      map.off("mousedown", down);
      map.off("mousemove", move);
      map.off("mouseup", up);
      document.removeEventListener("keydown", key);
      container.classList.remove("cityops-picking");
      if (box) {
        map.removeLayer(box);
      }
      if (wasDragging && !state.bounds) {
        map.dragging.enable();
      }
      state.picking = false;
      if (bounds && state.bridge && typeof state.bridge.areaPicked === "function") {
        state.bridge.areaPicked([
          bounds.getWest(),
          bounds.getSouth(),
          bounds.getEast(),
          bounds.getNorth()
        ]);
      }
    }
    function down(event) {
      start = event.latlng;
      box = L.rectangle(L.latLngBounds(start, start), {
        color: color("track"),
        weight: 2,
        dashArray: "6 4",
        fill: false,
        interactive: false
      }).addTo(map);
    }
    function move(event) {
      if (start) {
        box.setBounds(L.latLngBounds(start, event.latlng));
      }
    }
    function up(event) {
      if (!start) {
        return;
      }
      var bounds = L.latLngBounds(start, event.latlng);
      var size = map.latLngToContainerPoint(bounds.getNorthEast()).subtract(
        map.latLngToContainerPoint(bounds.getSouthWest())
      );
      finish(Math.abs(size.x) > 4 && Math.abs(size.y) > 4 ? bounds : null);
    }
    function key(event) {
      if (event.key === "Escape") {
        finish(null);
      }
    }
    map.on("mousedown", down);
    map.on("mousemove", move);
    map.on("mouseup", up);
    document.addEventListener("keydown", key);
    return true;
  }

  // -- keyboard ----------------------------------------------------------------------------
  // With the map focused (clicked, or reached with Tab): N and Shift+N go through what is
  // drawn in view, most urgent first, then nearest the centre; Enter does what a click on
  // it does (an entity selected, a cluster zoomed into); Esc lets go. The marker under the
  // cursor is ringed, its tooltip shown, and what it is announced to screen readers.

  // A cluster is known by its most urgent member: it keeps its place in the round while
  // members come and go.
  function spotKey(spot) {
    return spot.id !== undefined ? "e:" + spot.id : "c:" + spot.cluster.lead;
  }

  function keySpots() {
    var size = state.map.getSize();
    var cx = size.x / 2;
    var cy = size.y / 2;
    function distance(spot) {
      return (spot.x - cx) * (spot.x - cx) + (spot.y - cy) * (spot.y - cy);
    }
    return state.layer.spots().sort(function (a, b) {
      if (a.rank !== b.rank) {
        return b.rank - a.rank;
      }
      var far = distance(a) - distance(b);
      if (far !== 0) {
        return far;
      }
      return spotKey(a) < spotKey(b) ? -1 : 1;
    });
  }

  function stepKeyCursor(direction) {
    var spots = keySpots();
    if (!spots.length) {
      clearKeyCursor();
      announce(TEXTS.nothingHere);
      return;
    }
    var at = -1;
    if (state.keySpot) {
      var key = spotKey(state.keySpot);
      for (var i = 0; i < spots.length; i += 1) {
        if (spotKey(spots[i]) === key) {
          at = i;
          break;
        }
      }
    }
    var next =
      at < 0
        ? direction > 0
          ? 0
          : spots.length - 1
        : (at + direction + spots.length) % spots.length;
    showKeySpot(spots[next]);
  }

  function showKeySpot(spot) {
    state.keySpot = spot;
    var place = state.map.containerPointToLatLng([spot.x, spot.y]);
    if (!state.keyRing) {
      state.keyRing = L.circleMarker(place, {
        radius: Math.round(21 * state.scale),
        weight: 3,
        fill: false,
        color: color("marker-outline"),
        interactive: false,
        className: "cityops-key-cursor"
      }).addTo(state.map);
    } else {
      state.keyRing.setLatLng(place);
    }
    var entry = spot.id !== undefined ? state.markers.get(spot.id) : null;
    if (entry) {
      showTooltip(entry);
      announce(describeItem(entry.cityops.item));
      return;
    }
    hideTooltip();
    var words = [TEXTS.cluster.replace("{count}", String(spot.cluster.ids.length))];
    if (PRIORITY[spot.cluster.level]) {
      words.push(alarmText(spot.cluster.level));
    }
    announce(words.join(", "));
  }

  function describeItem(item) {
    var words = [textOf(item.name) || textOf(item.id), textOf(item.type)];
    if (item.stale) {
      words.push(TEXTS.noRecentData);
    } else if (item.severity) {
      words.push(alarmText(item.severity));
    }
    return words.filter(Boolean).join(", ");
  }

  function clearKeyCursor() {
    state.keySpot = null;
    if (state.keyRing) {
      state.map.removeLayer(state.keyRing);
      state.keyRing = null;
    }
  }

  function announce(text) {
    if (state.announcer) {
      state.announcer.textContent = text;
    }
  }

  function onMapKey(event) {
    var container = state.map.getContainer();
    if (event.target !== container || state.bounds || state.picking) {
      return; // a control's key, a fixed dashboard view, or a box being drawn
    }
    if (event.ctrlKey || event.altKey || event.metaKey) {
      return;
    }
    if (event.key === "n" || event.key === "N") {
      stepKeyCursor(event.shiftKey ? -1 : 1);
    } else if (event.key === "Enter" && state.keySpot) {
      var spot = state.keySpot;
      if (spot.cluster) {
        clearKeyCursor();
      }
      state.layer.open(spot);
    } else if (event.key === "Escape" && state.keySpot) {
      clearKeyCursor();
      hideTooltip();
      announce("");
    } else {
      return;
    }
    event.preventDefault();
  }

  // For tests: what the keyboard cursor is on ({id} or {cluster: member count}, and what
  // was announced), or null.
  function keyCursor() {
    var spot = state.keySpot;
    if (!spot) {
      return null;
    }
    var said = state.announcer ? state.announcer.textContent : "";
    return spot.id !== undefined
      ? { id: spot.id, said: said }
      : { cluster: spot.cluster.ids.length, said: said };
  }

  function tellView() {
    if (state.bridge && typeof state.bridge.viewMoved === "function") {
      state.bridge.viewMoved(viewBounds());
    }
  }

  function init(map, options) {
    var opts = options || {};
    setColors(opts.colors);
    setTexts(opts.texts);
    var scale = Number(opts.scale);
    state.scale = isFinite(scale) && scale >= 0.5 && scale <= 4 ? scale : 1;
    map.getContainer().style.fontSize = Math.round(FONT_SIZE * state.scale) + "px";
    state.map = map;
    // Without tile layers Leaflet knows no zoom limits, which clustering needs.
    if (map.options.maxZoom === undefined) {
      map.setMaxZoom(opts.maxZoom || 18);
    }
    if (map.options.minZoom === undefined) {
      map.setMinZoom(opts.minZoom || 3);
    }
    map.createPane("cityopsBoundaries").style.zIndex = 350;
    var labelPane = map.createPane("cityopsLabels");
    labelPane.style.zIndex = 360;
    labelPane.style.pointerEvents = "none";
    map.createPane(AREA_PANE).style.zIndex = 355;
    map.createPane("cityopsHeat").style.zIndex = 351; // over the districts' light fill
    map.createPane("cityopsGeofences").style.zIndex = 352;
    var fenceLabels = map.createPane("cityopsGeofenceLabels");
    fenceLabels.style.zIndex = 361;
    fenceLabels.style.pointerEvents = "none";
    map.createPane("cityopsTracks").style.zIndex = 390;
    var attention = map.createPane("cityopsAttention");
    attention.style.zIndex = 590;
    attention.style.pointerEvents = "none";
    state.trackRenderer = L.canvas({ pane: "cityopsTracks" });
    state.attentionLayer = L.layerGroup().addTo(map);
    addHatches();
    state.clustered = Boolean(opts.cluster);
    map.createPane("cityopsMarkers").style.zIndex = 600;
    state.layer = window.CityOpsMarkers.layer({
      pane: "cityopsMarkers",
      scale: state.scale,
      cluster: state.clustered,
      clusterRadius: 40, // larger icons need more room: scaled by the layer
      unclusterAtZoom: UNCLUSTER_ZOOM,
      color: color,
      shapes: SHAPE_POINTS,
      onClick: onClick,
      onHover: onHover,
      onDrawn: function (ms) {
        keepTime(state.drawTimes, ms);
      }
    });
    state.layer.addTo(map);
    state.announcer = document.createElement("div");
    state.announcer.className = "cityops-announce";
    state.announcer.setAttribute("role", "status");
    state.announcer.setAttribute("aria-live", "polite");
    map.getContainer().appendChild(state.announcer);
    map.getContainer().addEventListener("keydown", onMapKey);
    map.on("zoomstart", clearKeyCursor);
    L.control.scale({ imperial: false }).addTo(map);
    map.on("resize", function () {
      if (state.bounds) {
        map.fitBounds(state.bounds, { animate: false });
      }
    });
    connectBridge();
  }

  window.cityops = Object.freeze({
    init: init,
    applyEntities: timed(applyEntities),
    patchEntities: timed(patchEntities),
    removeEntities: timed(removeEntities),
    // For the benchmark: the durations (ms) of the entity calls since the last read.
    workTimes: workTimes,
    // For the benchmark: the durations (ms) of the marker canvas's redraws since the last read.
    drawTimes: drawTimes,
    setBoundaries: setBoundaries,
    showBounds: showBounds,
    setBasemaps: setBasemaps,
    setLayers: setLayers,
    layersInfo: layersInfo,
    setGeofences: setGeofences,
    setTracks: setTracks,
    trackInfo: trackInfo,
    setHeat: setHeat,
    // For tests: the Leaflet map.
    map: function () {
      return state.map;
    },
    // For tests: the heat layer (CityOpsHeat) or null.
    heat: function () {
      return state.heat;
    },
    setAttention: setAttention,
    tileCounts: tileCounts,
    // The name of the base map shown ("" without one).
    shownBasemap: function () {
      return state.shownBasemap;
    },
    // Show the base map of this name (as the switcher does); false when there is none.
    showBasemap: function (name) {
      var layer = state.basemaps.filter(function (b) {
        return b.cityops.name === name;
      })[0];
      if (!layer) {
        return false;
      }
      state.basemaps.forEach(function (b) {
        if (b !== layer && state.map.hasLayer(b)) {
          state.map.removeLayer(b);
        }
      });
      if (!state.map.hasLayer(layer)) {
        layer.addTo(state.map);
        state.map.fire("baselayerchange", { layer: layer, name: name });
      }
      return true;
    },
    viewBounds: viewBounds,
    pickBox: pickBox,
    // For tests: whether the map can be dragged (not in a fixed view).
    dragging: function () {
      return state.map.dragging.enabled();
    },
    markerCount: function () {
      return state.markers.size;
    },
    markerInfo: markerInfo,
    // For tests: draw the markers now (ms); where an entity is drawn ({x, y, size,
    // clustered}); the clusters drawn; the marker canvas's [r, g, b, a] at a point.
    redraw: function () {
      return state.layer.redraw();
    },
    drawn: function (id) {
      return state.layer.drawn(String(id));
    },
    clusters: function () {
      return state.layer.clusters();
    },
    markerPixel: function (x, y) {
      var canvas = document.querySelector(".cityops-markers-canvas");
      var ratio = canvas.width / canvas.clientWidth || 1;
      var data = canvas
        .getContext("2d")
        .getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
      return [data[0], data[1], data[2], data[3]];
    },
    focusEntity: focusEntity,
    focusInfo: focusInfo,
    keyCursor: keyCursor,
    boundaryCount: function () {
      return state.boundaryCount;
    },
    setAlertAreas: setAlertAreas,
    alertAreaCount: function () {
      return state.areas.size;
    },
    alertAreaInfo: alertAreaInfo,
    // For tests: the Leaflet layer group of an alert area, or null.
    alertArea: function (id) {
      return state.areas.get(id) || null;
    },
    // For tests: the Leaflet marker of an entity (e.g. to fire a click), or null.
    marker: function (id) {
      return state.markers.get(id) || null;
    }
  });
})();
