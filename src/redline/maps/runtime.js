/* The browser side of redline's maps (redline/maps/render.py writes the data it reads).
 *
 * Layers arrive compactly (redline/maps/encode.py): geometries as polyline strings, properties
 * as columns. Everything is drawn on one canvas renderer, in the order the layers are added
 * (planning layers bottom to top, then finding overlaps, then sites): large polygons are drawn
 * completely at any size and after any pan, and one canvas lets clicks reach every layer.
 * Sites too small to see at the current zoom are drawn as dots in their verdict's colour; site
 * polygons and overlaps are built per grid cell when the cell comes into view. Texts taken from
 * the data were HTML-escaped in Python. LEGEND_CLASS is replaced by the legend's CSS class.
 */
(function () {
  "use strict";
  var R = window.redline = {layers: {}, order: []};

  R.init = function (config, map) {
    R.config = config;
    R.map = map;
    R.renderer = L.canvas({padding: 0.5, tolerance: 3});
    L.control.scale({imperial: false, position: "bottomright"}).addTo(map);
    northArrow().addTo(map);
    titleBox(config.title);
    map.on("zoomend", fadeFills);
    map.on("popupopen", keepPopupClear);
    map.on("overlayadd", restack);
  };

  // -- decoding ---------------------------------------------------------------------------------
  /* Google's Encoded Polyline Algorithm Format, precision 6: [[lat, lng], ...]. */
  R.decode = function (text) {
    var out = [], i = 0, lat = 0, lng = 0;
    while (i < text.length) {
      var pair = [0, 0];
      for (var k = 0; k < 2; k++) {
        var shift = 0, result = 0, b;
        do {
          b = text.charCodeAt(i++) - 63;
          result |= (b & 31) << shift;
          shift += 5;
        } while (b >= 32);
        pair[k] = (result & 1) ? ~(result >> 1) : (result >> 1);
      }
      lat += pair[0];
      lng += pair[1];
      out.push([lat / 1e6, lng / 1e6]);
    }
    return out;
  };
  function shapes(geometry, options) {
    var made = [], polygons = [], lines = [];
    geometry.split(";").forEach(function (part) {
      var pieces = part.slice(1).split(" ").map(R.decode), type = part.charAt(0);
      if (type === "P") polygons.push(pieces);
      else if (type === "L") lines.push(pieces[0]);
      else made.push(L.circleMarker(pieces[0][0], L.extend({radius: 4}, options)));
    });
    if (polygons.length) made.push(L.polygon(polygons, options));
    if (lines.length) made.push(L.polyline(lines, options));
    return made;
  }
  function row(data, i) {
    var p = {};
    for (var name in data.c) {
      var v = data.c[name][i], table = data.d[name];
      p[name] = table && v !== null ? table[v] : v;
    }
    return p;
  }
  function addShapes(target, geometry, style, properties, interactive) {
    var options = L.extend({renderer: R.renderer, interactive: interactive}, style);
    shapes(geometry, options).forEach(function (shape) {
      shape.feature = {properties: properties};
      shape.rlStyle = style;
      target.addLayer(shape);
    });
  }

  // -- texts ------------------------------------------------------------------------------------
  function num(x, digits) {
    if (x === null || x === undefined) return "–";
    return x.toLocaleString("en-US", {maximumFractionDigits: digits});
  }
  function verdictLabel(p) {
    var label = R.config.palettes.sites[p.k].label;
    if (p.kv) label += "（已知 known: " + R.config.palettes.sites[p.kv].label + "）";
    return label;
  }
  function siteTooltip(p) {
    return "<b>" + p.i + "</b>" + (p.n ? " " + p.n : "") + "<br>" + verdictLabel(p);
  }
  function featureTooltip(palette, p) {
    return (p.n ? "<b>" + p.n + "</b><br>" : "") + R.config.palettes[palette][p.k].label;
  }
  function sitePopup(p) {
    var c = R.config, s = c.palettes.sites[p.k].style;
    var h = ['<div class="redline-popup"><div class="rl-head"><b>', p.i, "</b>",
             p.n ? " " + p.n : "", "</div>",
             '<div class="rl-verdict" style="border-color:', s.color, ";background:",
             s.fillColor, '">', c.palettes.sites[p.k].label, "</div>"];
    if (p.kv) {
      h.push('<div class="rl-known">已知结论 Known verdict: ', c.palettes.sites[p.kv].label,
             "</div>");
    }
    if (p.t) h.push("<div>项目类型 Project type: ", p.t, "</div>");
    if (p.r) h.push('<div class="rl-reason">未评估原因 Not assessed because: ', p.r, "</div>");
    if (!p.f || !p.f.length) {
      h.push("<div>无筛查发现 No findings</div>");
    } else {
      h.push("<table><thead><tr>");
      c.headers.forEach(function (t) { h.push("<th>", t, "</th>"); });
      h.push("</tr></thead><tbody>");
      p.f.forEach(function (f) {
        var rule = c.rules[f[0]], sev = c.severities[f[1]];
        var overlap = f[2] ? num(f[2], 0) + " m²" : (f[3] ? num(f[3], 1) + " m" : "–");
        h.push("<tr><td>", rule.t,
               f[6] != null ? '<br><span class="rl-feature">' + c.strings[f[6]] + "</span>" : "",
               f[7] != null ? '<br><span class="rl-feature">' + c.strings[f[7]] + "</span>" : "",
               '</td><td style="color:', sev.color, ';font-weight:600">', sev.label, "</td>",
               '<td class="rl-num">', overlap, '</td><td class="rl-num">',
               f[4] === null ? "–" : num(f[4] / 100, 1) + "%", '</td><td class="rl-num">',
               num(f[5], 0), "</td><td>", rule.c, "</td><td>", rule.z,
               '<br><span class="rl-en">', rule.e, "</span></td></tr>");
      });
      h.push("</tbody></table>");
    }
    h.push("</div>");
    return h.join("");
  }
  var POPUP = {maxWidth: 720, minWidth: 320, maxHeight: 420};

  // -- planning layers --------------------------------------------------------------------------
  R.addLayer = function (name, palette, data, opts, group) {
    var styles = R.config.palettes[palette], layer = L.featureGroup();
    for (var i = 0; i < data.g.length; i++) {
      var p = row(data, i);
      addShapes(layer, data.g[i], styles[p.k].style, p, opts.interactive);
    }
    if (opts.interactive) {
      layer.bindTooltip(function (l) { return featureTooltip(palette, l.feature.properties); },
                        {sticky: true});
    }
    layer.rlFade = opts.fade;
    group.addLayer(layer);
    R.layers[name] = layer;
    return layer;
  };
  /* Where layers stack, fills fade once zoomed in so that the outlines stay readable. */
  function fadeFills() {
    var factor = R.map.getZoom() >= R.config.fadeZoom ? R.config.fade : 1;
    if (factor === R.fadeFactor) return;
    R.fadeFactor = factor;
    Object.keys(R.layers).forEach(function (name) {
      var layer = R.layers[name];
      if (!layer.rlFade) return;
      layer.eachLayer(function (shape) {
        if (shape.rlStyle.fill) shape.setStyle({fillOpacity: shape.rlStyle.fillOpacity * factor});
      });
    });
  }

  // -- sites ------------------------------------------------------------------------------------
  function cellKey(latlng) {
    var size = R.config.cell;
    return Math.floor(latlng[1] / size) + ":" + Math.floor(latlng[0] / size);
  }
  function cellBounds(key) {
    var size = R.config.cell, xy = key.split(":").map(Number), pad = size / 2;
    return L.latLngBounds([xy[1] * size - pad, xy[0] * size - pad],
                          [(xy[1] + 1) * size + pad, (xy[0] + 1) * size + pad]);
  }
  function dotStyle(verdict) {
    var s = R.config.palettes.sites[verdict].style, clear = verdict === "clear";
    return {renderer: R.renderer, radius: clear ? 3.5 : 5.5, color: s.color,
            weight: verdict === "not_assessed" ? 2.5 : 1.2, opacity: 1, fill: true,
            fillColor: s.fillColor, fillOpacity: clear ? 0.6 : 0.95};
  }
  var DOT_CELL_PX = 16;
  /* One dot drawn once, stamped for every site (a path of 100,000 circles takes the browser
     seconds to fill). */
  function dotSprite(o) {
    var ratio = window.devicePixelRatio || 1, half = Math.ceil(o.radius + o.weight / 2) + 1;
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = 2 * half * ratio;
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.beginPath();
    ctx.arc(half, half, o.radius, 0, 2 * Math.PI);
    ctx.globalAlpha = o.fillOpacity;
    ctx.fillStyle = o.fillColor;
    ctx.fill();
    ctx.globalAlpha = o.opacity;
    ctx.lineWidth = o.weight;
    ctx.strokeStyle = o.color;
    ctx.stroke();
    return {canvas: canvas, half: half};
  }
  /* The dots of one verdict as one layer (a circle marker per site would take seconds to draw
     for 100,000 sites): the sites smaller than MIN_SITE_PX at this zoom. */
  var Dots = L.Path.extend({
    initialize: function (sites, options) {
      L.setOptions(this, options);
      this._sites = sites;
    },
    _project: function () {
      var map = this._map, zoom = map.getZoom(), S = R.sites, pad = this.options.radius +
          this.options.weight, box = new L.Bounds(), index = {};
      this._shown = [];
      this._xy = [];
      for (var n = 0; n < this._sites.length; n++) {
        var i = this._sites[n];
        if (zoom >= S.data.b[i]) continue;
        var p = map.latLngToLayerPoint(S.points[i]);
        var key = Math.floor(p.x / DOT_CELL_PX) + ":" + Math.floor(p.y / DOT_CELL_PX);
        (index[key] || (index[key] = [])).push(this._xy.length);
        this._shown.push(i);
        this._xy.push(p);
        box.extend(p);
      }
      this._index = index;
      this._pxBounds = this._xy.length ?
        L.bounds(box.min.subtract([pad, pad]), box.max.add([pad, pad])) : undefined;
    },
    _update: function () {
      if (this._map) this._updatePath();
    },
    _updatePath: function () {
      var renderer = this._renderer, ctx = renderer._ctx;
      if (!renderer._drawing || !this._xy.length) return;
      var sprite = this._sprite || (this._sprite = dotSprite(this.options)), half = sprite.half;
      var clip = renderer._bounds, pad = L.point(half, half);
      var inside = clip ? L.bounds(clip.min.subtract(pad), clip.max.add(pad)) : null;
      ctx.globalAlpha = 1;
      this._xy.forEach(function (p) {
        if (inside && !inside.contains(p)) return;
        ctx.drawImage(sprite.canvas, p.x - half, p.y - half, 2 * half, 2 * half);
      });
    },
    /* Hit test: the topmost dot within reach sets this.hit (a site index). */
    _containsPoint: function (p) {
      var reach = this.options.radius + this._clickTolerance(), found = -1;
      var cx = Math.floor(p.x / DOT_CELL_PX), cy = Math.floor(p.y / DOT_CELL_PX);
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          (this._index[(cx + dx) + ":" + (cy + dy)] || []).forEach(function (n) {
            if (n > found && p.distanceTo(this._xy[n]) <= reach) found = n;
          }, this);
        }
      }
      this.hit = found < 0 ? undefined : this._shown[found];
      return found >= 0;
    }
  });
  function site(i) {
    var S = R.sites;
    return S.props[i] || (S.props[i] = row(S.data, i));
  }
  R.addSites = function (data, sites, findings) {
    var S = R.sites = {data: data, points: R.decode(data.p), props: [], cells: {}, dots: [],
                       group: sites, findings: findings, labels: L.layerGroup()};
    var byVerdict = {}, verdicts = data.d.k;
    for (var i = 0; i < data.b.length; i++) {
      var b = data.b[i];
      var key = b <= R.config.bigZoom ? "*" : cellKey(S.points[i]);
      var cell = S.cells[key] || (S.cells[key] = {sites: [], minZoom: 99});
      cell.sites.push(i);
      cell.minZoom = Math.min(cell.minZoom, b);
      (byVerdict[data.c.k[i]] || (byVerdict[data.c.k[i]] = [])).push(i);
    }
    // Sites come mildest first: so do their dots.
    Object.keys(byVerdict).sort(function (a, b) { return byVerdict[a][0] - byVerdict[b][0]; })
      .forEach(function (code) {
        var dots = new Dots(byVerdict[code], dotStyle(verdicts[code]));
        dots.on("mousemove", function () {
          if (dots.hit !== dots.tipFor && dots.getTooltip()) {
            dots.tipFor = dots.hit;
            dots.setTooltipContent(siteTooltip(siteOf(dots)));
          }
        });
        S.dots.push(interactive(dots));
        sites.addLayer(dots);
      });
    sites.addLayer(S.labels);
    R.layers.sites = sites;
    R.layers.findings = findings;
    R.map.on("zoomend moveend", update);
    sites.on("add", dotsOnTop);
    update();
    R.map.addControl(searchControl());
  };
  function siteOf(layer) {
    return layer.hit !== undefined ? site(layer.hit) : layer.feature.properties;
  }
  /* Tooltip and popup of the sites in a layer or group of shapes (Leaflet 1.9.3 cannot bind
     them on a group of groups). */
  function interactive(layer) {
    layer.bindTooltip(function (l) { return siteTooltip(siteOf(l)); }, {sticky: true});
    layer.bindPopup(function (l) { return sitePopup(siteOf(l)); }, POPUP);
    return layer;
  }
  function makeCell(cell) {
    var S = R.sites, data = S.data, overlaps = [];
    var polygons = L.featureGroup(), drawn = L.featureGroup();
    var styles = R.config.palettes.sites, severities = R.config.palettes.findings;
    cell.sites.forEach(function (i) {
      if (data.g[i]) addShapes(polygons, data.g[i], styles[site(i).k].style, site(i), true);
      // an overlap of a code alone is the whole site: its outline
      if (data.o[i]) data.o[i].split(",").forEach(function (o) {
        overlaps.push(o.length > 1 ? o : o + data.g[i]);
      });
    });
    // Mildest first (codes count from the mildest), so the strictest overlap lies on top.
    overlaps.sort(function (a, b) { return a.charCodeAt(0) - b.charCodeAt(0); });
    overlaps.forEach(function (o) {
      var k = data.os[Number(o.charAt(0))];
      addShapes(drawn, o.slice(1), severities[k].style, {k: k}, false);
    });
    cell.made = true;
    S.group.addLayer(interactive(polygons));
    S.findings.addLayer(drawn);
  }
  /* Outlines of the cells in view once their sites can be seen; dots on top; labels close in. */
  function update() {
    var S = R.sites, zoom = R.map.getZoom(), view = R.map.getBounds(), made = false;
    Object.keys(S.cells).forEach(function (key) {
      var cell = S.cells[key];
      if (!cell.made && zoom >= cell.minZoom &&
          (key === "*" || cellBounds(key).intersects(view))) {
        makeCell(cell);
        made = true;
      }
    });
    if (made) dotsOnTop();
    S.labels.clearLayers();
    if (zoom < R.config.labelZoom) return;
    var shown = 0;
    Object.keys(S.cells).forEach(function (key) {
      if (key !== "*" && !cellBounds(key).intersects(view)) return;
      S.cells[key].sites.forEach(function (i) {
        if (shown >= R.config.maxLabels || !view.contains(S.points[i])) return;
        S.labels.addLayer(L.tooltip({permanent: true, direction: "center", interactive: false,
                                     className: "rl-label"})
          .setLatLng(S.points[i]).setContent(site(i).i));
        shown++;
      });
    });
  }
  /* Dots above the outlines (outlines are built later, and drawn in the order added). */
  function dotsOnTop() {
    if (!R.map.hasLayer(R.sites.group)) return;
    R.sites.dots.forEach(function (dots) { dots.bringToFront(); });
  }
  /* Show one site: zoom to it and open its popup. */
  R.focus = function (i) {
    var S = R.sites, b = S.data.b[i];
    var zoom = b >= 99 ? 16 : Math.min(Math.max(b + 4, R.config.labelZoom), 18);
    R.map.setView(S.points[i], zoom, {animate: false});
    R.map.openPopup(sitePopup(site(i)), S.points[i], POPUP);
  };
  function searchControl() {
    var records = null;
    function index() {
      if (records) return records;
      records = {};
      R.sites.points.forEach(function (point, i) {
        var p = site(i), key = p.i + (p.n ? " " + p.n : "");
        if (!(key in records)) {
          records[key] = L.latLng(R.sites.points[i]);
          records[key].site = i;
        }
      });
      return records;
    }
    return new L.Control.Search({
      position: "topleft", marker: false, initial: false, autoType: false, tooltipLimit: 20,
      textPlaceholder: "选址编号或名称 Site id or name", textErr: "未找到 Not found",
      textCancel: "取消 Cancel",
      sourceData: function (text, done) { done(index()); },
      formatData: function (found) { return found; },
      filterData: function (text, all) {
        var wanted = text.toLowerCase(), found = {}, n = 0;
        for (var key in all) {
          if (key.toLowerCase().indexOf(wanted) >= 0) {
            found[key] = all[key];
            if (++n >= 20) break;
          }
        }
        return found;
      },
      moveToLocation: function (latlng) { R.focus(latlng.site); }
    });
  }

  // -- controls ---------------------------------------------------------------------------------
  R.legend = function (content, position) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "LEGEND_CLASS leaflet-control");
      div.id = "LEGEND_CLASS";
      div.innerHTML = content;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(R.map);
    R.legendControl = control;
  };
  /* Keep an open popup off the legend and the title: pan it to the legend's right and below
     the title; fold the legend if the map is too narrow for both. */
  function keepPopupClear(e) {
    var legend = document.getElementById("LEGEND_CLASS");
    var title = R.map.getContainer().querySelector(".redline-title");
    var box = R.map.getContainer().getBoundingClientRect();
    var pad = L.point(legend ? legend.getBoundingClientRect().right - box.left + 12 : 12,
                      title ? title.getBoundingClientRect().bottom - box.top + 8 : 12);
    var current = e.popup.options.autoPanPaddingTopLeft;
    if (!current || !L.point(current).equals(pad)) {
      e.popup.options.autoPanPaddingTopLeft = pad;
      e.popup.update();
    }
    setTimeout(function () {  // after the pan
      var element = e.popup.getElement();
      if (!legend || !element || !R.map.hasLayer(e.popup)) return;
      var a = element.getBoundingClientRect(), b = legend.getBoundingClientRect();
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
        legend.querySelector("details").open = false;
      }
    }, 400);
  }
  /* A layer switched back on is drawn last: put the layers above it back on top. */
  R.stack = function (groups) { R.order = groups; };
  function restack(e) {
    var i = R.order.indexOf(e.layer);
    if (i < 0) return;
    R.order.slice(i + 1).forEach(function (g) { if (R.map.hasLayer(g)) g.bringToFront(); });
    if (R.sites) dotsOnTop();
  }
  function northArrow() {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "redline-north leaflet-control");
      div.title = "北 North";
      div.innerHTML = '<svg width="26" height="38" viewBox="0 0 26 38" aria-label="North">' +
        '<text x="13" y="11" text-anchor="middle" font-size="11" font-weight="700">N</text>' +
        '<path d="M13 13 L21 36 L13 30 L5 36 Z" fill="#222"/>' +
        '<path d="M13 13 L13 30 L5 36 Z" fill="#fff" stroke="#222" stroke-width="1"/></svg>';
      return div;
    };
    return control;
  }
  function titleBox(text) {
    if (!text) return;
    var div = L.DomUtil.create("div", "redline-title", R.map.getContainer());
    div.innerHTML = text;
  }
})();
