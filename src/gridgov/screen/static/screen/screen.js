/* The big screen: loads the overview once, then follows the live event stream.
   Numbers always come from the overview (re-read a few seconds after events and every
   minute); events move markers and the ticker at once. */
(function () {
  "use strict";

  const stage = document.getElementById("screen");
  const T = JSON.parse(document.getElementById("screen-strings").textContent);
  const config = {
    overviewUrl: stage.dataset.overviewUrl,
    caseUrl: stage.dataset.caseUrl,
    token: stage.dataset.token,
  };
  const REFRESH_MS = 60000;
  const EVENT_REFRESH_MS = 2500;
  const WATCHDOG_MS = 45000;
  const FRESH_MS = 120000;
  const COLORS = { accent: "#3fe0ff", blue: "#4c9bff", good: "#35e0a1", warn: "#ffb547", bad: "#ff5a5f", text: "#e8f2ff", muted: "#8fb0d6" };

  const state = {
    overview: null,
    lastEventId: null,
    lastUpdate: null,
    liveState: "connecting",
    source: null,
    lastMessageAt: 0,
    refreshTimer: null,
    fresh: new Map(), // case id -> time it arrived live
    denied: false,
  };

  // -- helpers -------------------------------------------------------------------------
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const rem = (n) => n * parseFloat(getComputedStyle(document.documentElement).fontSize);
  const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("zh-CN"));
  const pct = (r) => (r === null || r === undefined ? "–" : (r * 100).toFixed(r >= 0.9995 ? 0 : 1) + "%");
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, hour: "2-digit", minute: "2-digit" }) : "");
  const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const setField = (name, value) => $$(`[data-field="${name}"]`).forEach((el) => (el.textContent = value));

  function withToken(url) {
    if (!config.token) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(config.token);
  }

  async function getJSON(url, pending) {
    // pending: a request already under way for this URL (the page's early overview request).
    const response = await (pending || fetch(withToken(url), { credentials: "same-origin", headers: { Accept: "application/json" } }));
    if (response.status === 401 || response.status === 403) {
      const error = new Error("denied");
      error.denied = true;
      throw error;
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  // -- clock and live status -----------------------------------------------------------
  function tickClock() {
    const now = new Date();
    $("#clock-time").textContent = now.toLocaleTimeString("zh-CN", { hour12: false });
    $("#clock-date").textContent = now.toLocaleDateString("zh-CN", { year: "numeric", month: "long", day: "numeric", weekday: "long" });
    // A dropped stream never leaves a silently stale screen: say so after a while.
    if (state.liveState === "reconnecting" && state.lastUpdate && now - state.lastUpdate > 120000) setLive("stale");
  }

  function setLive(name) {
    state.liveState = name;
    const box = $("#live-status");
    box.dataset.state = name;
    const text = { live: T.live, reconnecting: T.reconnecting, stale: T.stale, denied: T.denied, connecting: "…" }[name];
    $("#live-text").textContent = text;
  }

  function markUpdated() {
    state.lastUpdate = new Date();
    $("#live-updated").textContent = state.lastUpdate.toLocaleTimeString("zh-CN", { hour12: false });
  }

  // -- overview --------------------------------------------------------------------------
  async function loadOverview() {
    if (state.denied) return;
    try {
      const early = window.gridgovFirstOverview;
      window.gridgovFirstOverview = null;
      const data = await getJSON(config.overviewUrl, early);
      state.overview = data;
      if (state.lastEventId === null) state.lastEventId = data.cursor;
      render(data);
      markUpdated();
      if (!state.source) connect();
    } catch (error) {
      if (error.denied) return deny();
      console.error("screen: overview failed", error);
      setLive("reconnecting");
    }
  }

  function scheduleRefresh(delay) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(loadOverview, delay);
  }

  function deny() {
    // A revoked or expired kiosk token: stop showing data at once.
    state.denied = true;
    if (state.source) state.source.close();
    setLive("denied");
    $(".board").style.visibility = "hidden";
  }

  function render(data) {
    $("#scope-name").textContent = data.scope.name;
    renderGovernance(data.governance, data.definitions);
    renderFunnel(data.governance.funnel, data.window.days);
    renderBars("chart-channels", data.governance.today.by_channel);
    renderBars("chart-statuses", data.governance.today.by_status);
    renderClocks(data.governance.clocks);
    renderMap(data.map);
    renderTrends(data.trends);
    renderRanking("#rank-departments", data.rankings.departments);
    renderRanking("#rank-communities", data.rankings.communities);
    renderEmergency(data.emergency);
    renderModule("livelihood", data.livelihood, data.window.days);
    renderModule("property", data.property, data.window.days);
    renderIndicators("party", data.party);
    renderIndicators("economy", data.economy);
    $$("[data-panel]").forEach((el) => (el.dataset.ready = "1"));
    rotation.start(data.rotate_seconds);
  }

  // -- 网格治理 ----------------------------------------------------------------------------
  function renderGovernance(g, definitions) {
    setField("grids", fmt(g.regions.grids));
    setField("inspectors", `${fmt(g.inspectors.on_duty)}/${fmt(g.inspectors.total)}`);
    setField("today_created", fmt(g.today.created));
    setField("today_closed", fmt(g.today.closed));
    for (const [key, value] of Object.entries(g.rates)) {
      const box = $(`.rate[data-rate="${key}"]`);
      const ring = $(".ring", box);
      const share = value === null ? 0 : Math.round(value * 100);
      ring.style.setProperty("--p", share);
      ring.style.setProperty("--c", value === null ? COLORS.muted : value >= 0.9 ? COLORS.good : value >= 0.75 ? COLORS.accent : COLORS.warn);
      $("span", ring).textContent = pct(value);
      box.title = definitions[key];
    }
    $("#rates-note").textContent = T.rates_note.replace("30", definitions.window_days);
  }

  const charts = {};
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }

  function axisStyle() {
    return {
      axisLabel: { color: COLORS.muted, fontSize: rem(1), fontFamily: "Noto Sans CJK SC" },
      axisLine: { lineStyle: { color: "rgba(143,176,214,0.35)" } },
      splitLine: { lineStyle: { color: "rgba(143,176,214,0.12)" } },
    };
  }

  function renderFunnel(funnel, days) {
    $("#funnel-window").textContent = T.days30.replace("30", days);
    const colors = ["#4c9bff", "#3fc6ff", "#3fe0ff", "#35e0c0", "#35e0a1"];
    chart("chart-funnel").setOption({
      animationDuration: 600,
      series: [{
        type: "funnel",
        sort: "none",
        left: "4%", right: "4%", top: "2%", bottom: "2%",
        minSize: "28%",
        gap: rem(0.3),
        label: { show: true, position: "inside", color: "#02111f", fontSize: rem(1.2), fontWeight: "bold", formatter: (p) => `${p.name}  ${fmt(p.value)}` },
        itemStyle: { borderWidth: 0 },
        data: funnel.map((step, i) => ({ name: step.label, value: step.value, itemStyle: { color: colors[i % colors.length] } })),
      }],
    });
  }

  function renderBars(chartId, counts) {
    const rows = counts.slice().reverse();
    chart(chartId).setOption({
      grid: { left: rem(8.5), right: rem(3), top: rem(0.5), bottom: rem(0.5) },
      xAxis: { type: "value", ...axisStyle(), axisLabel: { show: false } },
      yAxis: { type: "category", data: rows.map((r) => r.label), ...axisStyle(), axisLabel: { color: COLORS.text, fontSize: rem(1.1) } },
      series: [{
        type: "bar",
        data: rows.map((r) => r.value),
        barWidth: "55%",
        label: { show: true, position: "right", color: COLORS.accent, fontSize: rem(1.15), fontWeight: "bold" },
        itemStyle: { borderRadius: [0, rem(0.4), rem(0.4), 0], color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#1d5fbf" }, { offset: 1, color: COLORS.accent }]) },
      }],
    });
  }

  function caseItem(row, kind) {
    const tone = row.priority >= 4 || kind === "bad" ? "bad" : kind === "warn" ? "warn" : "accent";
    const tag = kind === "bad" ? T.overdue : kind === "warn" ? T.warning : row.channel_label;
    const what = [row.category, row.grid].filter(Boolean).join(" · ") || row.number;
    const when = row.due_at && kind ? time(row.due_at) : time(row.created_at);
    return `<li data-case="${row.id}"><span class="tag ${tone}">${esc(tag)}</span><span class="what">${esc(what)}</span><span class="when">${esc(when)}</span></li>`;
  }

  function fillList(selector, items, emptyText) {
    const list = $(selector);
    list.innerHTML = items.length ? items.join("") : `<li class="empty">${esc(emptyText)}</li>`;
  }

  function renderClocks(clocks) {
    setField("overdue_count", fmt(clocks.overdue_count));
    setField("warning_count", fmt(clocks.warning_count));
    const items = clocks.overdue.slice(0, 5).map((r) => caseItem(r, "bad")).concat(clocks.warning.slice(0, 4).map((r) => caseItem(r, "warn")));
    fillList("#list-clocks", items, T.no_data);
  }

  // -- trends and rankings ---------------------------------------------------------------------
  function trendOption(days, created, closed) {
    const area = (color) => ({ color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: color + "66" }, { offset: 1, color: color + "00" }]) });
    return {
      grid: { left: rem(3.2), right: rem(1), top: rem(2.6), bottom: rem(2) },
      legend: { top: 0, right: 0, textStyle: { color: COLORS.text, fontSize: rem(1.05) }, itemWidth: rem(1.4), itemHeight: rem(0.6) },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days.map((d) => d.slice(5)), boundaryGap: false, ...axisStyle() },
      yAxis: { type: "value", minInterval: 1, ...axisStyle() },
      series: [
        { name: T.created, type: "line", smooth: true, data: created, symbolSize: rem(0.45), lineStyle: { width: rem(0.2), color: COLORS.accent }, itemStyle: { color: COLORS.accent }, areaStyle: area("#3fe0ff") },
        { name: T.closed, type: "line", smooth: true, data: closed, symbolSize: rem(0.45), lineStyle: { width: rem(0.2), color: COLORS.good }, itemStyle: { color: COLORS.good }, areaStyle: area("#35e0a1") },
      ],
    };
  }

  function renderTrends(trends) {
    chart("chart-trend30").setOption(trendOption(trends.days, trends.created, trends.closed));
    const last7 = (list) => list.slice(-7);
    chart("chart-trend7").setOption(trendOption(last7(trends.days), last7(trends.created), last7(trends.closed)));
  }

  function renderRanking(selector, rows) {
    const items = rows.slice(0, 6).map((row) => {
      const share = Math.round((row.closure_rate || 0) * 100);
      return `<li><span class="name">${esc(row.name)}</span><span class="bar"><i style="width:${share}%"></i></span><span class="pct">${pct(row.closure_rate)}</span></li>`;
    });
    $(selector).innerHTML = items.length ? items.join("") : `<li class="empty-state">${esc(T.no_data)}</li>`;
  }

  // -- 应急指挥 ----------------------------------------------------------------------------
  function renderEmergency(e) {
    setField("urgent_open", fmt(e.urgent_open));
    setField("alarms_today", fmt(e.alarms_today));
    setField("cameras_ratio", e.cameras.total ? `${e.cameras.online}/${e.cameras.total}` : "–");
    fillList("#list-whistles", e.whistles.map((w) => `<li>${esc(w.title || w.name || "")}</li>`), T.no_whistles);
    const seen = new Set();
    const rows = e.urgent.concat(e.alarms)
      .filter((r) => !seen.has(r.id) && seen.add(r.id))
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, 4);
    fillList("#list-alarms", rows.map((r) => caseItem(r, r.priority >= 4 ? "bad" : "")), T.no_data);
  }

  // -- 民生保障 / 智慧物业 ------------------------------------------------------------------
  function renderModule(name, m, days) {
    const box = $(`[data-module="${name}"]`);
    $(`[data-panel="${name}"] [data-window]`).textContent = T.days30.replace("30", days);
    if (!m.configured) {
      box.innerHTML = `<div class="empty-state">${esc(T.not_configured)}<br>${esc(m.categories.join("、"))}</div>`;
      return;
    }
    const chartId = `chart-module-${name}`;
    if (!$("#" + chartId, box)) {
      box.innerHTML = `<div class="kpis kpis-3">
          <div class="kpi"><div class="kpi-value accent" data-m="total"></div><div class="kpi-label">${esc(T.created)}</div></div>
          <div class="kpi"><div class="kpi-value warn" data-m="open"></div><div class="kpi-label">${esc(T.open_cases)}</div></div>
          <div class="kpi"><div class="kpi-value good" data-m="satisfaction"></div><div class="kpi-label">${esc(T.satisfaction)}</div></div>
        </div><div class="chart" id="${chartId}"></div><div class="module-note" data-m="communities"></div>`;
      delete charts[chartId];
    }
    $('[data-m="total"]', box).textContent = fmt(m.total);
    $('[data-m="open"]', box).textContent = fmt(m.open);
    $('[data-m="satisfaction"]', box).textContent = pct(m.satisfaction);
    // 智慧物业 by estate (小区) with satisfaction where estates are mapped, else by community.
    const places = m.by_estate && m.by_estate.length
      ? m.by_estate.slice(0, 4).map((e) => `${e.name} ${fmt(e.value)} ${T.satisfaction} ${pct(e.satisfaction)}`)
      : m.by_community.slice(0, 4).map((c) => `${c.name} ${fmt(c.value)}`);
    $('[data-m="communities"]', box).textContent = places.join(" · ");
    const rows = m.by_type.slice(0, 6).reverse();
    chart(chartId).setOption({
      grid: { left: rem(9), right: rem(3), top: rem(0.3), bottom: rem(0.3) },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", data: rows.map((r) => r.name), ...axisStyle(), axisLabel: { color: COLORS.text, fontSize: rem(1.05), width: rem(8.5), overflow: "truncate" } },
      series: [{
        type: "bar", data: rows.map((r) => r.value), barWidth: "55%",
        label: { show: true, position: "right", color: COLORS.accent, fontSize: rem(1.1), fontWeight: "bold" },
        itemStyle: { borderRadius: [0, rem(0.4), rem(0.4), 0], color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#1f4fa8" }, { offset: 1, color: COLORS.blue }]) },
      }],
    });
  }

  // -- 党建引领 / 经济运行 ------------------------------------------------------------------
  function renderIndicators(name, module) {
    const box = $(`[data-indicators="${name}"]`);
    $(`[data-month="${name}"]`).textContent = module.month || "";
    if (!module.items.length) {
      box.innerHTML = `<div class="empty-state">${esc(T.no_data)}</div>`;
      return;
    }
    const chartId = `chart-indicators-${name}`;
    const tiles = module.items.slice(0, 6).map((item) =>
      `<div class="indicator"><div class="label">${esc(item.label)}</div><div class="value">${fmt(item.value)}<span class="unit">${esc(item.unit)}</span></div></div>`).join("");
    const sources = Array.from(new Set(module.items.map((item) => item.source))).join("、");
    box.innerHTML = `<div class="indicator-grid">${tiles}</div><div class="chart" id="${chartId}"></div>
      <div class="indicator-source">${esc(T.source)}：${esc(sources)} · ${esc(T.month)}：${esc(module.month)}</div>`;
    if (charts[chartId]) { charts[chartId].dispose(); delete charts[chartId]; }
    const lead = module.items[0];
    const values = module.history.series[lead.key] || [];
    chart(chartId).setOption({
      grid: { left: rem(4), right: rem(1), top: rem(2), bottom: rem(1.8) },
      title: { text: `${lead.label}（${lead.unit}）`, left: 0, top: 0, textStyle: { color: COLORS.muted, fontSize: rem(1), fontWeight: "normal" } },
      xAxis: { type: "category", data: module.history.months.map((m) => m.slice(2)), ...axisStyle() },
      yAxis: { type: "value", scale: true, ...axisStyle() },
      series: [{ type: "bar", data: values, barWidth: "50%", itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: COLORS.accent }, { offset: 1, color: "#1d5fbf" }]) } }],
    });
  }

  // -- rotation ---------------------------------------------------------------------------
  const rotation = {
    timer: null,
    seconds: 0,
    start(seconds) {
      if (this.timer && seconds === this.seconds) return;
      clearInterval(this.timer);
      this.seconds = seconds;
      $$("[data-rotator]").forEach((panel) => this.setup(panel));
      this.timer = setInterval(() => this.advance(), Math.max(5, seconds) * 1000);
    },
    setup(panel) {
      const slides = $$(".slide", panel);
      if (!slides.some((s) => s.classList.contains("active"))) this.show(panel, 0);
    },
    show(panel, index) {
      const slides = $$(".slide", panel);
      slides.forEach((slide, i) => slide.classList.toggle("active", i === index));
      $(".dots", panel).innerHTML = slides.map((_, i) => `<i class="${i === index ? "on" : ""}"></i>`).join("");
      $$(".chart", slides[index]).forEach((el) => charts[el.id] && charts[el.id].resize());
    },
    advance() {
      $$("[data-rotator]").forEach((panel) => {
        const slides = $$(".slide", panel);
        const current = slides.findIndex((s) => s.classList.contains("active"));
        this.show(panel, (current + 1) % slides.length);
      });
      mapView.nextMode();
    },
  };

  // -- the map ----------------------------------------------------------------------------
  const mapView = {
    map: null,
    mode: "load",
    layers: {},
    cases: new Map(),
    fitted: false,
    data: null,

    init() {
      this.map = L.map("map", { zoomControl: false, attributionControl: false, zoomSnap: 0.25, keyboard: false });
      this.map.setView([36.69, 117.0], 14);
      this.canvas = L.canvas({ padding: 0.3 });
      for (const name of ["heat", "grids", "communities", "labels", "cameras", "inspectors", "cases"]) {
        this.layers[name] = L.layerGroup().addTo(this.map);
      }
      $$("#map-mode button").forEach((button) => button.addEventListener("click", () => this.setMode(button.dataset.mode)));
      this.setMode("load");
    },

    setMode(mode) {
      this.mode = mode;
      $$("#map-mode button").forEach((b) => b.classList.toggle("on", b.dataset.mode === mode));
      if (this.data) this.drawAreas();
    },

    nextMode() {
      const modes = ["load", "clock", "heat"];
      this.setMode(modes[(modes.indexOf(this.mode) + 1) % modes.length]);
    },

    render(data) {
      if (!this.map) this.init();
      this.data = data;
      if (data.tile_url && !this.tiles) this.tiles = L.tileLayer(data.tile_url, { maxZoom: 19 }).addTo(this.map);
      this.drawAreas();
      this.drawCommunities();
      this.drawCameras();
      this.drawInspectors(data.inspectors);
      this.drawCases(data.cases);
      if (!this.fitted && data.grids.features.length) {
        this.map.fitBounds(L.geoJSON(data.grids).getBounds(), { padding: [rem(1.5), rem(1.5)] });
        this.fitted = true;
      }
    },

    loadColor(open, max) {
      // Five equal steps from 1 to the busiest grid; an empty grid stays dark.
      if (!open) return "#0d2f57";
      const scale = ["#145c9e", "#1f8fd0", "#f0c04a", "#ff8a3d", "#ff4d57"];
      return scale[Math.min(scale.length - 1, Math.floor(((open - 1) / Math.max(max, 1)) * scale.length))];
    },

    drawAreas() {
      const { grids, heat } = this.data;
      const max = Math.max(0, ...grids.features.map((f) => f.properties.open));
      const clockColor = { overdue: COLORS.bad, warning: COLORS.warn, normal: "#1f9d74" };
      this.layers.grids.clearLayers();
      this.layers.heat.clearLayers();
      L.geoJSON(grids, {
        style: (f) => {
          const p = f.properties;
          const fill = this.mode === "clock" ? clockColor[p.clock] : this.mode === "load" ? this.loadColor(p.open, max) : "#0a2446";
          return { color: "rgba(120,200,255,0.55)", weight: 1, fillColor: fill, fillOpacity: this.mode === "heat" ? 0.25 : 0.55 };
        },
        onEachFeature: (f, layer) => layer.bindTooltip(`${esc(f.properties.name)}<br>${T.open_cases} ${f.properties.open} · ${T.overdue} ${f.properties.overdue}`, { sticky: true }),
      }).addTo(this.layers.grids);
      if (this.mode === "heat") {
        const top = Math.max(1, ...heat.map((c) => c.n));
        for (const cell of heat) {
          if (!cell.ring.length) continue;
          const t = cell.n / top;
          L.polygon(cell.ring, { renderer: this.canvas, stroke: false, fillColor: t > 0.66 ? "#ff4d57" : t > 0.33 ? "#ff9f43" : "#ffd56b", fillOpacity: 0.25 + 0.55 * t }).addTo(this.layers.heat);
        }
      }
      this.drawLegend(max);
    },

    drawLegend(max) {
      const swatch = (color, text) => `<div><i style="background:${color}"></i>${esc(text)}</div>`;
      let html;
      if (this.mode === "clock") {
        html = swatch(COLORS.bad, T.overdue) + swatch(COLORS.warn, T.warning) + swatch("#1f9d74", T.normal);
      } else if (this.mode === "heat") {
        html = swatch("#ff4d57", "高") + swatch("#ff9f43", "中") + swatch("#ffd56b", "低");
      } else {
        const step = Math.max(1, Math.ceil(max / 5));
        html = ["#145c9e", "#1f8fd0", "#f0c04a", "#ff8a3d", "#ff4d57"].map((c, i) => swatch(c, `${i * step}–${(i + 1) * step}`)).join("");
      }
      $("#map-legend").innerHTML = `<div><b>${esc({ load: T.load, clock: T.clock, heat: T.heat }[this.mode])}</b></div>${html}`;
    },

    drawCommunities() {
      this.layers.communities.clearLayers();
      this.layers.labels.clearLayers();
      L.geoJSON(this.data.communities, { style: { color: "#7fdcff", weight: 2.5, fill: false, opacity: 0.9 }, interactive: false })
        .eachLayer((layer) => {
          layer.addTo(this.layers.communities);
          const label = L.tooltip({ permanent: true, direction: "center", className: "region-label" })
            .setLatLng(layer.getBounds().getCenter())
            .setContent(esc(layer.feature.properties.name));
          this.layers.labels.addLayer(label);
        });
    },

    drawCameras() {
      const cams = this.data.cameras;
      this.layers.cameras.clearLayers();
      for (const [id, code, name, lon, lat, online] of cams.rows) {
        L.circleMarker([lat, lon], { renderer: this.canvas, radius: rem(0.22), weight: 0, fillOpacity: 0.85, fillColor: online ? "#5fd4ff" : "#6b7686" })
          .on("click", () => card.camera({ id, code, name, online }))
          .addTo(this.layers.cameras);
      }
      setField("cameras_online", `${cams.online}/${cams.total}`);
    },

    drawInspectors(inspectors) {
      this.layers.inspectors.clearLayers();
      this.inspectors = new Map();
      inspectors.forEach((p) => this.placeInspector(p));
      setField("inspector_markers", fmt(this.inspectors.size));
    },

    placeInspector(p) {
      const old = this.inspectors.get(p.user);
      if (old) this.layers.inspectors.removeLayer(old);
      const size = rem(1.3);
      const marker = L.marker([p.lat, p.lon], { icon: L.divIcon({ className: "", html: '<div class="inspector-marker"></div>', iconSize: [size, size] }) })
        .on("click", () => card.inspector(p))
        .addTo(this.layers.inspectors);
      this.inspectors.set(p.user, marker);
    },

    drawCases(cases) {
      this.layers.cases.clearLayers();
      this.cases.clear();
      cases.forEach((c) => this.placeCase(c));
      setField("open_markers", fmt(this.cases.size));
    },

    placeCase(c) {
      this.removeCase(c.id);
      if (c.lon === null || c.lat === null || c.open === false) return;
      const freshAt = state.fresh.get(c.id);
      const fresh = freshAt && Date.now() - freshAt < FRESH_MS;
      const classes = ["case-marker", c.clock || "", c.emergency ? "emergency" : "", fresh ? "fresh" : ""].join(" ");
      const size = rem(c.emergency ? 1.4 : 1.1);
      const marker = L.marker([c.lat, c.lon], {
        icon: L.divIcon({ className: "", html: `<div class="${classes}" data-case="${c.id}"></div>`, iconSize: [size, size] }),
        zIndexOffset: fresh ? 1000 : c.emergency ? 500 : 0,
      }).on("click", () => card.caseCard(c.id)).addTo(this.layers.cases);
      this.cases.set(c.id, marker);
    },

    removeCase(id) {
      const marker = this.cases.get(id);
      if (marker) {
        this.layers.cases.removeLayer(marker);
        this.cases.delete(id);
      }
    },
  };

  function renderMap(data) {
    mapView.render(data);
  }

  // -- detail card -------------------------------------------------------------------------
  const card = {
    timer: null,
    show(title, rows) {
      const box = $("#detail-card");
      const items = rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
      $(".detail-body", box).innerHTML = `<h3>${esc(title)}</h3><dl>${items}</dl>`;
      box.hidden = false;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => (box.hidden = true), 20000); // a kiosk has no one to close it
    },
    async caseCard(id) {
      try {
        const c = await getJSON(`${config.caseUrl}${id}/`);
        this.show(`${c.number} · ${c.status_label}`, [
          [T.grid, c.grid], ["类别", c.category], ["来源", c.channel_label], ["地址", c.address],
          ["描述", c.description], [T.reporter, [c.reporter_name, c.reporter_phone].filter(Boolean).join(" ")],
          [T.department, c.department], [T.reported_at, new Date(c.created_at).toLocaleString("zh-CN", { hour12: false })],
          [T.due, c.due_at ? new Date(c.due_at).toLocaleString("zh-CN", { hour12: false }) : ""],
        ]);
      } catch (error) {
        if (error.denied) deny();
      }
    },
    camera(c) {
      this.show(`${T.camera} ${c.code}`, [["名称", c.name], ["状态", c.online ? T.online : T.offline]]);
    },
    inspector(p) {
      this.show(`${T.inspector} ${p.name}`, [[T.grid, p.grid], [T.last_seen, new Date(p.at).toLocaleTimeString("zh-CN", { hour12: false })]]);
    },
  };
  $(".detail-close").addEventListener("click", () => ($("#detail-card").hidden = true));
  $$(".case-list").forEach((list) => list.addEventListener("click", (event) => {
    const item = event.target.closest("li[data-case]");
    if (item) card.caseCard(item.dataset.case);
  }));

  // -- ticker ------------------------------------------------------------------------------
  function addTicker(kindLabel, text, alarm) {
    const ticker = $("#ticker");
    const item = document.createElement("span");
    if (alarm) item.className = "alarm";
    item.innerHTML = `<b>${esc(time(new Date().toISOString()))} ${esc(kindLabel)}</b>${esc(text)}`;
    $(".ticker-label", ticker)?.remove();
    ticker.prepend(item);
    while (ticker.children.length > 8) ticker.lastChild.remove();
  }

  // -- the live stream ---------------------------------------------------------------------
  function streamUrl() {
    const live = state.overview.live;
    let base = live.events_url;
    if (base.startsWith(":")) base = `${location.protocol}//${location.hostname}${base}`; // e.g. ":8001/events/"
    const url = new URL(base, location.href);
    url.searchParams.set("ticket", live.ticket);
    if (state.lastEventId !== null) url.searchParams.set("last_event_id", state.lastEventId);
    return url.toString();
  }

  function connect() {
    if (state.denied) return;
    if (state.source) state.source.close();
    const source = new EventSource(streamUrl());
    state.source = source;
    state.lastMessageAt = Date.now();
    source.onopen = () => { state.lastMessageAt = Date.now(); setLive("live"); };
    source.onerror = () => {
      if (source !== state.source) return;
      setLive("reconnecting");
      // EventSource retries by itself (with Last-Event-ID); a refused stream (403: the
      // ticket expired) closes for good, so fetch a fresh ticket and start again.
      if (source.readyState === EventSource.CLOSED) reconnectSoon();
    };
    const on = (kind, handler) => source.addEventListener(kind, (event) => {
      state.lastMessageAt = Date.now();
      if (event.lastEventId) state.lastEventId = Number(event.lastEventId);
      setLive("live");
      markUpdated();
      handler(event.data ? JSON.parse(event.data) : {});
    });
    on("ping", () => {});
    on("case", onCase);
    on("alarm", (data) => onCase(data, true));
    on("position", onPosition);
    on("camera", onCamera);
    // Camera AI / sensor alarms as they arrive (gridgov.video); dismissals are not news.
    on("video_alarm", (a) => { if (a.status !== "dismissed") addTicker(T.alarm, `${a.camera || a.origin} ${a.label}`, true); });
    on("reauth", () => reconnectSoon(0));
  }

  function reconnectSoon(delay = 2000) {
    if (state.source) state.source.close();
    state.source = null;
    setTimeout(async () => { await loadOverview(); if (!state.source) connect(); }, delay);
  }

  function watchdog() {
    // Pings come every 15 s; silence means a dead connection that the browser missed.
    if (state.source && Date.now() - state.lastMessageAt > WATCHDOG_MS) {
      setLive("reconnecting");
      reconnectSoon(0);
    }
  }

  function onCase(c, alarm) {
    if (c.action === "create") state.fresh.set(c.id, Date.now());
    mapView.placeCase(c);
    setField("open_markers", fmt(mapView.cases.size));
    const label = alarm ? T.alarm : c.action === "create" ? T.new_case : c.status_label;
    addTicker(label, `${c.number} ${c.category || c.channel_label}`, alarm || c.emergency);
    scheduleRefresh(EVENT_REFRESH_MS);
  }

  function onPosition(p) {
    mapView.placeInspector(p);
    setField("inspector_markers", fmt(mapView.inspectors.size));
  }

  function onCamera(c) {
    addTicker(c.online ? T.camera_online : T.camera_offline, `${c.code} ${c.name}`, !c.online);
    scheduleRefresh(EVENT_REFRESH_MS);
  }

  window.addEventListener("resize", () => {
    Object.values(charts).forEach((c) => c.resize());
    if (state.overview) render(state.overview);
  });

  setLive("connecting");
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(watchdog, 5000);
  setInterval(() => scheduleRefresh(0), REFRESH_MS);
  loadOverview();
})();
