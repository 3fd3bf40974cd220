/* The finance team's page: one store's (or a set's total) last 12 weeks and 42-day forecast, what-if
   Promo/Open, CSV of what is shown. Talks only to the same API that serves it (relative URLs); the chart
   is uPlot. In AWS the sign-in page stores the Cognito access token in sessionStorage and it is sent as
   a Bearer token; locally there is none. */
"use strict";
(() => {
  const TOKEN_KEY = "rossmann.token";
  const COVARIATES = ["open", "promo", "state_holiday", "school_holiday"];
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const STORE_CSV = ["store", "date", "kind", "sales", "lower", "upper", "open", "open_assumed", "promo",
    "promo_assumed", "state_holiday", "state_holiday_assumed", "school_holiday", "school_holiday_assumed",
    "model", "model_version", "origin"];
  const TOTAL_CSV = ["stores", "date", "kind", "sales", "lower", "upper", "open_stores", "open_assumed_stores",
    "promo_stores", "promo_assumed_stores", "state_holiday_stores", "state_holiday_assumed_stores",
    "school_holiday_stores", "school_holiday_assumed_stores", "model", "model_version", "origin"];
  const STORE_BAND = "Band: the model's 90 % prediction interval per day (split-conformal per lead week; its " +
    "coverage measured on the rolling backtest is in the product's results page). Green bars: promo days; red " +
    "dots: state holidays; magenta dots: school holidays; grey dots at 0: closed.";
  const TOTAL_MARKS = " Dotted line: the actual sales of the same days 52 weeks earlier.";
  const GROUP_CSV = ["group_by", "group", "stores", "first_day", "last_day", "sales", "lower", "upper",
    "last_year_sales", "vs_last_year_percent", "model", "model_version", "origin"];

  const $ = (id) => document.getElementById(id);
  const euros = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
  const fmtEuro = (v) => (v == null ? "–" : euros.format(v) + " €");
  const cents = (v) => Math.round(v * 100) / 100;
  const sum = (values) => values.reduce((a, b) => a + (b || 0), 0);
  const toSeconds = (day) => Date.parse(day + "T00:00:00Z") / 1000;
  const weekday = (day) => WEEKDAYS[new Date(day + "T00:00:00Z").getUTCDay()];
  const axisDate = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const axisDay = (seconds) => axisDate.format(new Date(seconds * 1000));

  const state = {
    stores: [], storeById: new Map(), health: null, model: null, view: "store", store: null,
    overrides: new Map(), shown: null, chart: null, cache: new Map(), seq: 0, inflight: null, groups: null,
    explained: null,
  };

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function reason(status, payload) {
    const detail = payload && payload.detail;
    if (Array.isArray(detail)) {
      return detail.map((e) => {
        const loc = (e.loc || []).filter((part) => !["body", "query", "path"].includes(part)).join(".");
        return loc ? `${loc}: ${e.msg}` : e.msg;
      }).join("; ");
    }
    if (typeof detail === "string") return detail;
    if (payload && typeof payload.message === "string") return payload.message;
    return `the server answered HTTP ${status}`;
  }

  function token() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
      return saved && saved.expires_at > Date.now() ? saved.access_token : null;
    } catch (error) {
      return null;
    }
  }

  async function api(path, body, signal) {
    const headers = {};
    const bearer = token();
    if (bearer) headers.Authorization = "Bearer " + bearer;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: body === undefined ? "GET" : "POST", headers, signal,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "the forecast service cannot be reached (" + error.message + ")");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      payload = null;
    }
    if (response.status === 401 || response.status === 403) {
      $("session").hidden = false;
      throw new ApiError(response.status, "not signed in or the sign-in has expired: use “Sign in again”");
    }
    if (!response.ok) throw new ApiError(response.status, reason(response.status, payload));
    return payload;
  }

  function showError(id, message) { $(id).textContent = message; }
  function clearErrors() {
    for (const id of ["store-error", "set-error", "model-error", "whatif-error"]) $(id).textContent = "";
  }

  /* ---- which stores ---- */

  function matching() {
    const type = $("filter-type").value, assortment = $("filter-assortment").value, st = $("filter-state").value;
    return state.stores.filter((s) => (!type || s.store_type === type) && (!assortment || s.assortment === assortment)
      && (!st || s.state === st));
  }

  function filtersActive() {
    return Boolean($("filter-type").value || $("filter-assortment").value || $("filter-state").value);
  }

  function describeStore(id) {
    const s = state.storeById.get(id);
    return s ? `Store ${id} (type ${s.store_type}, assortment ${s.assortment}, ${s.state})` : `Store ${id}`;
  }

  function fillStorePick() {
    const matches = matching();
    const pick = $("store-pick");
    pick.replaceChildren(...matches.map((s) => new Option(
      `${s.store} · type ${s.store_type} · assortment ${s.assortment} · ${s.state}`, String(s.store))));
    if (matches.some((s) => s.store === state.store)) pick.value = String(state.store);
    $("filter-count").textContent = `${matches.length} of ${state.stores.length} stores match`;
    return matches;
  }

  /* The request target of the current controls: {view, stores, label, key} or an error message. */
  function target() {
    if (state.view === "store") {
      const text = $("store").value.trim();
      if (!text) return { error: "type a store id", errorId: "store-error" };
      const id = /^\d+$/.test(text) ? Number(text) : text;
      return { view: "store", store: id, stores: [id], label: describeStore(id), errorId: "store-error" };
    }
    const tokens = $("store-set").value.split(/[\s,;]+/).filter(Boolean);
    if (tokens.length) {
      const ids = tokens.map((t) => (/^\d+$/.test(t) ? Number(t) : t));
      const label = `Daily total of ${ids.length} chosen store${ids.length === 1 ? "" : "s"}`;
      return { view: "total", stores: ids, label, errorId: "set-error" };
    }
    const matches = matching();
    if (!matches.length) return { error: "no store matches the filters", errorId: "set-error" };
    if (!filtersActive()) {
      return { view: "total", stores: "all", label: `Daily total of all ${state.stores.length} stores`,
        errorId: "set-error" };
    }
    return { view: "total", stores: matches.map((s) => s.store),
      label: `Daily total of the ${matches.length} stores matching the filters`, errorId: "set-error" };
  }

  function storeIdsOf(t) {
    return t.stores === "all" ? state.stores.map((s) => s.store) : t.stores;
  }

  /* What-if overrides as POST /forecasts covariates for the target's stores. */
  function overridesFor(t) {
    const list = [];
    for (const [date, values] of [...state.overrides.entries()].sort()) {
      for (const store of storeIdsOf(t)) list.push({ store, date, ...values });
    }
    return list;
  }

  /* POST /forecasts, following next_page: more stores than one page holds come a page at a time. */
  async function forecasts(body, signal) {
    const first = await api("forecasts", body, signal);
    let page = first;
    while (page.next_page) {
      page = await api("forecasts", { ...body, page: page.next_page }, signal);
      first.stores.push(...page.stores);
    }
    return first;
  }

  /* POST /totals body for the target's stores: the chain for all of them, else the list as one group. */
  function totalsBody(t, period) {
    const group = t.stores === "all" ? { group_by: "chain" } : { group_by: "stores", stores: t.stores };
    return { ...group, period, model: state.model };
  }

  /* ---- loading ---- */

  async function cached(key, load) {
    if (state.cache.has(key)) return state.cache.get(key);
    const value = await load();
    state.cache.set(key, value);
    if (state.cache.size > 40) state.cache.delete(state.cache.keys().next().value);
    return value;
  }

  /* Fetch what the controls ask for and draw it; on an API error keep what is shown and put the reason
     next to the control (errorId). Returns "ok", "error" or "stale" (a newer request replaced it). */
  async function refresh(errorId) {
    const t = target();
    if (t.error) {
      showError(t.errorId, t.error);
      return "error";
    }
    const seq = ++state.seq;
    if (state.inflight) state.inflight.abort();
    const controller = new AbortController();
    state.inflight = controller;
    const signal = controller.signal;
    const body = { stores: t.stores, model: state.model };
    const key = JSON.stringify(body);
    const covariates = overridesFor(t);
    try {
      const total = t.view === "total";
      const [history, baseline, scenario, dayTotals, windowTotal] = await Promise.all([
        cached(`h${t.view}${JSON.stringify(t.stores)}`, () => (t.view === "store"
          ? api(`stores/${encodeURIComponent(t.store)}/history`, undefined, signal)
          : api("history", { stores: t.stores }, signal))),
        cached("f" + key, () => forecasts(body, signal)),
        covariates.length ? forecasts({ ...body, covariates }, signal) : Promise.resolve(null),
        total ? cached("td" + key, () => api("totals", totalsBody(t, "day"), signal)) : Promise.resolve(null),
        total ? cached("tw" + key, () => api("totals", totalsBody(t, "window"), signal)) : Promise.resolve(null),
      ]);
      if (seq !== state.seq) return "stale";
      clearErrors();
      state.shown = { ...t, history, baseline, scenario, covariates, dayTotals, windowTotal };
      render();
      return "ok";
    } catch (error) {
      if (error.name === "AbortError" || seq !== state.seq) return "stale";
      showError(errorId || t.errorId, error.message);
      return "error";
    }
  }

  /* Change the what-if, re-forecast, and put it back as it was if the API refuses it. */
  async function changeWhatIf(change) {
    const previous = new Map(state.overrides);
    change(state.overrides);
    const outcome = await refresh("whatif-error");
    if (outcome === "error") {
      state.overrides = previous;
      renderWhatIfList();
    }
  }

  /* ---- rows on screen ---- */

  /* Per forecast day: {date, sales, lower, upper, values: {cov: value}, assumed: {cov: bool|count}}. */
  function forecastRows(shown, forecast) {
    if (!forecast) return null;
    const stores = forecast.stores;
    if (shown.view === "store") {
      const s = stores[0];
      return s.date.map((date, i) => ({
        date, sales: s.sales[i], lower: s.lower[i], upper: s.upper[i],
        values: Object.fromEntries(COVARIATES.map((c) => [c, s.covariates[c][i]])),
        assumed: Object.fromEntries(COVARIATES.map((c) => [c, s.assumed[c][i]])),
      }));
    }
    const days = forecast === shown.baseline && shown.dayTotals ? shown.dayTotals.totals : null;
    return stores[0].date.map((date, i) => ({
      date, sales: cents(sum(stores.map((s) => s.sales[i]))),
      lower: days ? days[i].lower : null, upper: days ? days[i].upper : null,
      lastYear: days ? days[i].last_year_sales : null,
      values: Object.fromEntries(COVARIATES.map((c) => [c, stores.filter((s) => flagged(c, s.covariates[c][i])).length])),
      assumed: Object.fromEntries(COVARIATES.map((c) => [c, stores.filter((s) => s.assumed[c][i]).length])),
    }));
  }

  function flagged(name, value) {
    return name === "state_holiday" ? value !== "0" && value != null : value === 1;
  }

  /* Per history day: {date, sales, values} with recorded values (store) or store counts (total). */
  function historyRows(shown) {
    const h = shown.history;
    if (shown.view === "store") {
      return h.date.map((date, i) => ({
        date, sales: h.sales[i],
        values: Object.fromEntries(COVARIATES.map((c) => [c, h.covariates[c][i]])),
      }));
    }
    return h.date.map((date, i) => ({
      date, sales: h.sales[i],
      values: { open: h.open_stores[i], promo: h.promo_stores[i], state_holiday: h.state_holiday_stores[i],
        school_holiday: h.school_holiday_stores[i] },
    }));
  }

  /* ---- chart ---- */

  function chartData(shown) {
    const past = historyRows(shown);
    const base = forecastRows(shown, shown.baseline);
    const what = forecastRows(shown, shown.scenario);
    const effective = what || base;
    const n = shown.view === "store" ? 1 : shown.baseline.stores.length;
    const nPast = past.length, nFuture = base.length;
    const blank = (k) => new Array(k).fill(null);
    const days = [...past, ...effective];
    const flag = (name, level, atLeast) => days.map((r) => {
      const v = r.values[name];
      if (shown.view === "store") return flagged(name, v) ? level : null;
      return v >= atLeast ? level : null;
    });
    return [
      days.map((r) => toSeconds(r.date)),
      [...past.map((r) => r.sales), ...blank(nFuture)],
      [...blank(nPast), ...base.map((r) => r.sales)],
      [...blank(nPast), ...base.map((r) => r.lower)],
      [...blank(nPast), ...base.map((r) => r.upper)],
      what ? [...blank(nPast), ...what.map((r) => r.sales)] : blank(nPast + nFuture),
      flag("promo", 1, n / 2),
      flag("state_holiday", 0.97, 1),
      flag("school_holiday", 0.9, n / 2),
      days.map((r) => (r.values.open === 0 ? 0 : null)),
      [...blank(nPast), ...base.map((r) => (r.lastYear === undefined ? null : r.lastYear))],
    ];
  }

  function chartOptions(width) {
    const money = (u, v) => fmtEuro(v);
    const yes = (u, v) => (v == null ? "–" : "yes");
    const marker = (color, size) => ({ show: true, size, stroke: color, fill: color, width: 1 });
    return {
      width, height: width < 600 ? 260 : 360,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { x: { time: true }, flag: { auto: false, range: [0, 1] } },
      axes: [{ values: (u, splits) => splits.map(axisDay) }, { size: 64, values: (u, splits) => splits.map((v) => (Math.abs(v) >= 1000 ? euros.format(v / 1000) + "k" : euros.format(v))) }],
      series: [
        { value: "{YYYY}-{MM}-{DD}" },
        { label: "Actual", stroke: "#111827", width: 1.5, value: money },
        { label: "Forecast", stroke: "#1d4ed8", width: 2, value: money },
        { label: "90 % low", stroke: "rgba(29,78,216,0.35)", width: 1, value: money },
        { label: "90 % high", stroke: "rgba(29,78,216,0.35)", width: 1, value: money },
        { label: "What-if", stroke: "#c2410c", width: 2, dash: [6, 4], value: money },
        { label: "Promo", scale: "flag", stroke: "transparent", width: 0, fill: "rgba(5,150,105,0.2)", value: yes,
          paths: uPlot.paths.bars({ size: [1, Infinity], gap: 0 }), points: { show: false } },
        { label: "State holiday", scale: "flag", stroke: "#dc2626", fill: "#dc2626", paths: () => null,
          points: marker("#dc2626", 8), value: yes },
        { label: "School holiday", scale: "flag", stroke: "#c026d3", fill: "#c026d3", paths: () => null,
          points: marker("#c026d3", 7), value: yes },
        { label: "Closed", stroke: "#6b7280", fill: "#6b7280", paths: () => null, points: marker("#6b7280", 6),
          value: yes },
        { label: "Last year", stroke: "#6b7280", width: 1.5, dash: [2, 3], value: money },
      ],
      bands: [{ series: [4, 3], fill: "rgba(29,78,216,0.12)" }],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
  }

  function drawChart(shown) {
    const el = $("chart");
    const data = chartData(shown);
    if (!state.chart) {
      el.replaceChildren();
      state.chart = new uPlot(chartOptions(el.clientWidth || 320), data, el);
    } else {
      state.chart.setData(data);
    }
    const lastYear = shown.view === "total";
    if (state.chart.series[10].show !== lastYear) state.chart.setSeries(10, { show: lastYear });
    const base = shown.baseline.stores[0].date;
    el.setAttribute("aria-label", `${shown.label}: actual sales ${shown.history.date[0]} to ${shown.history.origin}, ` +
      `forecast ${base[0]} to ${base[base.length - 1]}` + (shown.scenario ? " with the what-if line" : "") +
      ". The table below lists the forecast days.");
    requestAnimationFrame(() => {
      el.dataset.drawn = String(Number(el.dataset.drawn) + 1);
      performance.mark("chart-drawn");
      document.dispatchEvent(new CustomEvent("chart-drawn"));
    });
  }

  function resizeChart() {
    if (!state.chart) return;
    const width = $("chart").clientWidth;
    state.chart.setSize({ width, height: width < 600 ? 260 : 360 });
  }

  /* ---- text, table, what-if list ---- */

  function render() {
    const shown = state.shown;
    const b = shown.baseline;
    $("chart-title").textContent = shown.label;
    $("model-info").textContent = `Model ${b.model} · version ${b.model_version} · actual sales up to ${b.origin}` +
      ` · forecast ${b.start} to ${b.stores[0].date[b.stores[0].date.length - 1]}`;
    $("band-note").textContent = shown.view === "store" ? STORE_BAND : shown.dayTotals.band + TOTAL_MARKS;
    const days = b.stores[0].date;
    Object.assign($("whatif-date"), { min: days[0], max: days[days.length - 1] });
    drawChart(shown);
    renderTotals(shown);
    renderTable(shown);
    renderWhatIfList();
    refreshExplain();
  }

  /* ---- why this number: one store's week as drivers, against the same week last year ---- */

  const percent = (share) => {
    const value = Math.round(100 * share);
    return `${value >= 0 ? "+" : "−"}${Math.abs(value)} %`;
  };

  async function refreshExplain() {
    const shown = state.shown;
    $("explain-section").hidden = shown.view !== "store";
    if (shown.view !== "store") return;
    const body = { covariates: shown.covariates, ...(state.model ? { model: state.model } : {}) };
    const key = "x" + JSON.stringify([shown.store, body]);
    try {
      const answer = await cached(key, () => api(`stores/${encodeURIComponent(shown.store)}/explain`, body));
      if (state.shown !== shown) return;
      $("explain-error").textContent = "";
      state.explained = answer;
      fillExplainWeeks(answer);
      renderExplain();
    } catch (error) {
      if (state.shown !== shown) return;
      state.explained = null;
      $("explain-week").replaceChildren();
      $("explain-bars").replaceChildren();
      $("explain-sentence").textContent = "";
      $("explain-factors").textContent = "";
      showError("explain-error", error.message);
    }
  }

  function fillExplainWeeks(answer) {
    const pick = $("explain-week");
    const before = pick.value;
    const weeks = answer.weeks.filter((w) => w.open_days > 0);
    pick.replaceChildren(...weeks.map((w) => new Option(
      `Week of ${w.first_day} (${w.days} day${w.days > 1 ? "s" : ""}, ${w.open_days} open)`, w.first_day)));
    const compared = weeks.find((w) => w.vs_last_year) || weeks[0];
    pick.value = weeks.some((w) => w.first_day === before) ? before : compared ? compared.first_day : "";
  }

  function renderExplain() {
    const answer = state.explained;
    const week = answer && answer.weeks.find((w) => w.first_day === $("explain-week").value);
    const bars = $("explain-bars");
    bars.replaceChildren();
    if (!week) return;
    const last = week.vs_last_year;
    $("explain-sentence").textContent = `Store ${answer.store}, week of ${week.first_day}: ` +
      (last ? `${fmtEuro(week.forecast)}, ${last.sentence}.` : `${fmtEuro(week.forecast)}; ${week.vs_last_year_note}.`);
    /* Against last year when the API compared the week, else the week's own factors against its baseline. */
    const shares = last ? Object.entries(last.parts)
      : Object.entries(week.factors).map(([name, f]) => [name, f - 1]);
    const words = last ? answer.comparison_parts
      : Object.fromEntries(answer.drivers.map((d) => [d.name, d.label]));
    bars.setAttribute("aria-label", last ? "Drivers of the change against the same week last year"
      : "Drivers of the forecast against the store's typical day");
    const parts = shares.filter(([, p]) => Math.abs(p) >= 0.005).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const largest = Math.max(...parts.map(([, p]) => Math.abs(p)), 0.01);
    for (const [name, share] of parts) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = words[name];
      const track = document.createElement("span");
      track.className = "track";
      const bar = document.createElement("span");
      bar.className = "bar " + (share >= 0 ? "up" : "down");
      bar.style.width = `${(100 * Math.abs(share)) / largest}%`;
      track.append(bar);
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = percent(share);
      item.dataset.part = name;
      item.append(label, track, value);
      bars.append(item);
    }
    const factors = Object.entries(week.factors).filter(([, f]) => Math.abs(f - 1) >= 0.005)
      .map(([name, f]) => `${answer.drivers.find((d) => d.name === name).label} ${percent(f - 1)}`);
    $("explain-factors").textContent = `This week's forecast = ${week.open_days} open days × ${fmtEuro(week.baseline)} ` +
      `(the store's typical open day over the last year) × ${factors.join(" × ") || "no factor beyond 0.5 %"}.` +
      ` Model ${answer.model}.`;
  }

  function renderTotals(shown) {
    const base = cents(sum(forecastRows(shown, shown.baseline).map((r) => r.sales)));
    const el = $("totals");
    el.replaceChildren();
    const days = shown.baseline.horizon_days;
    const part = (text, value, id) => {
      const strong = document.createElement("strong");
      strong.id = id;
      strong.dataset.value = String(value);
      strong.textContent = text;
      return strong;
    };
    el.append(`Forecast over the ${days} days: `, part(fmtEuro(base), base, "baseline-total"));
    const whole = shown.windowTotal ? shown.windowTotal.totals[0] : null;
    if (whole && whole.lower != null) {
      el.append(" · 90 % band ", part(`${fmtEuro(whole.lower)} – ${fmtEuro(whole.upper)}`, whole.upper - whole.lower,
        "baseline-band"));
    }
    if (whole && whole.last_year_sales) {
      const pct = (100 * (whole.sales - whole.last_year_sales)) / whole.last_year_sales;
      el.append(" · same days last year: ", part(`${fmtEuro(whole.last_year_sales)} (${pct > 0 ? "+" : ""}` +
        `${pct.toFixed(1)} %)`, whole.last_year_sales, "last-year-total"));
    }
    if (shown.scenario) {
      const what = cents(sum(forecastRows(shown, shown.scenario).map((r) => r.sales)));
      const diff = cents(what - base);
      const pct = base ? (100 * diff) / base : 0;
      const sign = diff > 0 ? "+" : "";
      el.append(" · what-if: ", part(fmtEuro(what), what, "scenario-total"), " · difference: ",
        part(`${sign}${fmtEuro(diff)} (${sign}${pct.toFixed(1)} %)`, diff, "scenario-difference"));
    }
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (text instanceof Node) td.append(text); else td.textContent = text;
    row.append(td);
    return td;
  }

  function header(names) {
    const tr = document.createElement("tr");
    for (const name of names) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      tr.append(th);
    }
    $("days").tHead.replaceChildren(tr);
  }

  function toggleButton(row, name, label) {
    const on = row.values[name] === 1;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = on ? "on" : "off";
    button.setAttribute("aria-pressed", String(on));
    button.setAttribute("aria-label", `${label} on ${row.date}`);
    button.dataset.key = `${name}:${row.date}`;
    button.dataset.date = row.date;
    button.dataset.name = name;
    return button;
  }

  function renderTable(shown) {
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const base = forecastRows(shown, shown.baseline);
    const what = forecastRows(shown, shown.scenario);
    const rows = what || base;
    const store = shown.view === "store";
    header(["Date", "Day", store ? "Open" : "Stores open", store ? "Promo" : "On promo", "State holiday",
      "School holiday", store ? "Forecast" : "Forecast total", "90 % from", "90 % to",
      ...(store ? [] : ["Last year"]), ...(what ? ["What-if"] : [])]);
    const body = document.createDocumentFragment();
    rows.forEach((r, i) => {
      const tr = document.createElement("tr");
      cell(tr, r.date);
      cell(tr, weekday(r.date));
      for (const [name, label] of [["open", "Open"], ["promo", "Promo"]]) {
        const given = store ? !r.assumed[name] : r.assumed[name] < shown.baseline.stores.length;
        cell(tr, store ? toggleButton(r, name, label) : String(r.values[name]), given ? "given" : "");
      }
      cell(tr, store ? (r.values.state_holiday === "0" ? "–" : r.values.state_holiday) : String(r.values.state_holiday));
      cell(tr, store ? (r.values.school_holiday === 1 ? "yes" : "–") : String(r.values.school_holiday));
      cell(tr, fmtEuro(base[i].sales));
      cell(tr, fmtEuro(base[i].lower));
      cell(tr, fmtEuro(base[i].upper));
      if (!store) cell(tr, fmtEuro(base[i].lastYear));
      if (what) cell(tr, fmtEuro(r.sales));
      body.append(tr);
    });
    $("days").tBodies[0].replaceChildren(body);
    if (focused) {
      const again = $("days").querySelector(`[data-key="${focused}"]`);
      if (again) again.focus();
    }
  }

  function renderWhatIfList() {
    const list = $("whatif-list");
    list.replaceChildren(...[...state.overrides.entries()].sort().map(([date, values]) => {
      const li = document.createElement("li");
      const parts = [];
      if (values.promo !== undefined) parts.push(`Promo ${values.promo ? "on" : "off"}`);
      if (values.open !== undefined) parts.push(values.open ? "open" : "closed");
      li.textContent = `${date}: ${parts.join(", ")}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove the what-if of ${date}`);
      remove.addEventListener("click", () => changeWhatIf((o) => o.delete(date)));
      li.append(remove);
      return li;
    }));
  }

  /* ---- CSV ---- */

  function csvValue(v) {
    if (v == null) return "";
    const text = String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function csvRows(shown) {
    const b = shown.baseline;
    const meta = (model) => [model, b.model_version, b.origin];
    const lines = [];
    if (shown.view === "store") {
      const id = b.stores[0].store;
      for (const r of historyRows(shown)) {
        lines.push([id, r.date, "actual", r.sales, null, null, ...COVARIATES.flatMap((c) => [r.values[c], null]), ...meta(null)]);
      }
      for (const [kind, forecast] of [["forecast", b], ["what-if", shown.scenario]]) {
        for (const r of forecastRows(shown, forecast) || []) {
          lines.push([id, r.date, kind, r.sales, r.lower, r.upper,
            ...COVARIATES.flatMap((c) => [r.values[c], r.assumed[c]]), ...meta(forecast.model)]);
        }
      }
      return [STORE_CSV, ...lines];
    }
    const stores = shown.stores === "all" ? "all" : b.stores.map((s) => s.store).join(" ");
    for (const r of historyRows(shown)) {
      lines.push([stores, r.date, "actual", r.sales, null, null, ...COVARIATES.flatMap((c) => [r.values[c], null]), ...meta(null)]);
    }
    for (const [kind, forecast] of [["forecast", b], ["what-if", shown.scenario]]) {
      for (const r of forecastRows(shown, forecast) || []) {
        lines.push([stores, r.date, kind, r.sales, r.lower, r.upper,
          ...COVARIATES.flatMap((c) => [r.values[c], r.assumed[c]]), ...meta(forecast.model)]);
      }
    }
    return [TOTAL_CSV, ...lines];
  }

  function download() {
    const shown = state.shown;
    if (!shown) return;
    const text = csvRows(shown).map((row) => row.map(csvValue).join(",")).join("\n") + "\n";
    const name = shown.view === "store" ? `store-${shown.baseline.stores[0].store}`
      : `total-${shown.baseline.stores.length}-stores`;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    link.download = `forecast-${name}-${shown.baseline.model_version}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  /* ---- totals by state or store type ---- */

  async function refreshGroups() {
    const groupBy = $("group-by").value;
    try {
      const answer = await api("totals", { group_by: groupBy, period: "window", model: state.model });
      $("group-error").textContent = "";
      state.groups = answer;
      renderGroups(answer);
    } catch (error) {
      showError("group-error", error.message);
    }
  }

  function vsLastYear(row) {
    return row.last_year_sales ? (100 * (row.sales - row.last_year_sales)) / row.last_year_sales : null;
  }

  function renderGroups(answer) {
    const tr = document.createElement("tr");
    for (const name of [answer.group_by === "state" ? "State" : "Store type", "Stores", "Forecast", "90 % from",
      "90 % to", "Same days last year", "vs last year"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      tr.append(th);
    }
    $("groups").tHead.replaceChildren(tr);
    const body = document.createDocumentFragment();
    for (const row of answer.totals) {
      const line = document.createElement("tr");
      const pct = vsLastYear(row);
      for (const text of [row.group, String(row.stores), fmtEuro(row.sales), fmtEuro(row.lower), fmtEuro(row.upper),
        fmtEuro(row.last_year_sales), pct == null ? "–" : `${pct > 0 ? "+" : ""}${pct.toFixed(1)} %`]) {
        cell(line, text);
      }
      body.append(line);
    }
    $("groups").tBodies[0].replaceChildren(body);
    const first = answer.totals[0];
    $("groups-caption").textContent = `${answer.group_by === "state" ? "Federal states" : "Store types"}, ` +
      `${first.first_day} to ${first.last_day} (model ${answer.model}): ${answer.band}`;
  }

  function downloadGroups() {
    const answer = state.groups;
    if (!answer) return;
    const lines = answer.totals.map((r) => [answer.group_by, r.group, r.stores, r.first_day, r.last_day, r.sales,
      r.lower, r.upper, r.last_year_sales, vsLastYear(r) == null ? null : vsLastYear(r).toFixed(2), answer.model,
      answer.model_version, answer.origin]);
    const text = [GROUP_CSV, ...lines].map((row) => row.map(csvValue).join(",")).join("\n") + "\n";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    link.download = `totals-by-${answer.group_by}-${answer.model_version}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  /* ---- controls ---- */

  function setView(view) {
    state.view = view;
    $("store-controls").hidden = view !== "store";
    $("set-controls").hidden = view !== "total";
    refresh();
  }

  function onFilter() {
    const matches = fillStorePick();
    if (state.view === "total") {
      if (!$("store-set").value.trim()) refresh("set-error");
    } else if (matches.length && !matches.some((s) => s.store === state.store)) {
      chooseStore(matches[0].store);
    }
  }

  function chooseStore(id) {
    $("store").value = String(id);
    state.store = id;
    if ([...$("store-pick").options].some((o) => o.value === String(id))) $("store-pick").value = String(id);
    refresh("store-error");
  }

  function wire() {
    for (const radio of document.querySelectorAll('input[name="view"]')) {
      radio.addEventListener("change", () => setView(radio.value));
    }
    for (const id of ["filter-type", "filter-assortment", "filter-state"]) $(id).addEventListener("change", onFilter);
    $("store").addEventListener("change", () => {
      const text = $("store").value.trim();
      state.store = /^\d+$/.test(text) ? Number(text) : null;
      if ([...$("store-pick").options].some((o) => o.value === text)) $("store-pick").value = text;
      refresh("store-error");
    });
    $("store-pick").addEventListener("change", () => chooseStore(Number($("store-pick").value)));
    $("set-apply").addEventListener("click", () => refresh("set-error"));
    $("store-set").addEventListener("keydown", (e) => { if (e.key === "Enter") refresh("set-error"); });
    $("model").addEventListener("change", () => {
      state.model = $("model").value;
      refresh("model-error");
      refreshGroups();
    });
    $("group-by").addEventListener("change", refreshGroups);
    $("explain-week").addEventListener("change", renderExplain);
    $("groups-download").addEventListener("click", downloadGroups);
    $("whatif-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const date = $("whatif-date").value;
      const values = {};
      if ($("whatif-promo").value !== "") values.promo = Number($("whatif-promo").value);
      if ($("whatif-open").value !== "") values.open = Number($("whatif-open").value);
      if (!Object.keys(values).length) {
        showError("whatif-error", "choose Promo or Open for the day");
        return;
      }
      changeWhatIf((o) => o.set(date, values));
    });
    $("whatif-clear").addEventListener("click", () => changeWhatIf((o) => o.clear()));
    $("days").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-name]");
      if (!button) return;
      const { date, name } = button.dataset;
      const row = forecastRows(state.shown, state.shown.baseline).find((r) => r.date === date);
      changeWhatIf((o) => {
        const values = { ...(o.get(date) || {}) };
        if (values[name] !== undefined) delete values[name]; else values[name] = row.values[name] === 1 ? 0 : 1;
        if (Object.keys(values).length) o.set(date, values); else o.delete(date);
      });
    });
    $("download").addEventListener("click", download);
    let pending = null;
    window.addEventListener("resize", () => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(resizeChart);
    });
  }

  function fillSelect(id, values) {
    $(id).append(...values.map((v) => new Option(v, v)));
  }

  async function start() {
    wire();
    let health, stores;
    try {
      [health, stores] = await Promise.all([api("health"), api("stores")]);
    } catch (error) {
      $("model-info").textContent = "";
      $("chart-title").textContent = "The forecast service cannot answer: " + error.message;
      $("chart").setAttribute("aria-label", "no chart: " + error.message);
      return;
    }
    state.health = health;
    state.model = health.default_model;
    state.stores = stores.stores;
    state.storeById = new Map(state.stores.map((s) => [s.store, s]));
    $("model").append(...health.models.map((m) => new Option(
      m === health.default_model ? `${m} (best on validation)` : m, m)));
    $("model").value = health.default_model;
    const distinct = (key) => [...new Set(state.stores.map((s) => s[key]))].sort();
    fillSelect("filter-type", distinct("store_type"));
    fillSelect("filter-assortment", distinct("assortment"));
    fillSelect("filter-state", distinct("state"));
    fillStorePick();
    const first = new Date(Date.parse(health.origin + "T00:00:00Z") + 86400000).toISOString().slice(0, 10);
    $("whatif-date").value = first;
    chooseStore(state.stores[0].store);
    refreshGroups();
  }

  start();
})();
