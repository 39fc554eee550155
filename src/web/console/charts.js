// Line charts drawn as inline SVG (no library): one polyline per series over a fixed window of
// samples, a y axis scaled to the largest value shown, gaps where a series has no value.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#2f6fdf", "#e0803a", "#2aa876", "#c2417a", "#7a5ad8", "#a08a20", "#3aa3c2"];
const MARGIN = { left: 44, right: 8, top: 10, bottom: 20 };

function element(name, attributes) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  return e;
}

// A readable axis maximum at or above `v`: 1, 2 or 5 times a power of ten.
function niceCeiling(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// An axis label: two significant digits below 100 (0.025, 2.5, 25), whole numbers above.
function formatValue(v) {
  if (v >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(2)));
}

// A series' colour: stable for its name across both charts and the legend.
export class Colors {
  constructor() { this.assigned = new Map(); }
  of(name) {
    if (!this.assigned.has(name)) {
      this.assigned.set(name, PALETTE[this.assigned.size % PALETTE.length]);
    }
    return this.assigned.get(name);
  }
}

export class LineChart {
  // svg: an <svg> with a viewBox; window: samples shown; colors: a shared Colors.
  constructor(svg, window, colors) {
    this.svg = svg;
    this.window = window;
    this.colors = colors;
    const box = svg.viewBox.baseVal;
    this.width = box.width;
    this.height = box.height;
  }

  // series: Map name → array of numbers or null (oldest first, at most `window` long).
  draw(series) {
    const svg = this.svg;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    let max = 0;
    let latest = 0;
    for (const values of series.values()) {
      for (const v of values) if (v !== null && v > max) max = v;
      const last = values[values.length - 1];
      if (last !== null && last !== undefined) latest += last;
    }
    const top = niceCeiling(max);
    const plotW = this.width - MARGIN.left - MARGIN.right;
    const plotH = this.height - MARGIN.top - MARGIN.bottom;
    const x = (i) => MARGIN.left + (plotW * i) / Math.max(1, this.window - 1);
    const y = (v) => MARGIN.top + plotH - (plotH * v) / top;
    for (const fraction of [0, 0.5, 1]) {
      const v = top * fraction;
      svg.appendChild(element("line", { class: "grid", x1: MARGIN.left,
                                        x2: this.width - MARGIN.right, y1: y(v), y2: y(v) }));
      const label = element("text", { class: "axis-label", x: MARGIN.left - 4, y: y(v) + 4,
                                      "text-anchor": "end" });
      label.textContent = formatValue(v);
      svg.appendChild(label);
    }
    const caption = element("text", { class: "axis-label", x: this.width - MARGIN.right,
                                      y: this.height - 4, "text-anchor": "end" });
    caption.textContent = "now";
    svg.appendChild(caption);
    for (const [name, values] of series) {
      const offset = this.window - values.length;  // right-aligned: the newest sample is "now"
      let points = [];
      const flush = () => {
        if (points.length > 0) {
          const stroke = this.colors.of(name);
          svg.appendChild(element("polyline", { points: points.join(" "), stroke,
                                                "data-series": name }));
        }
        points = [];
      };
      values.forEach((v, i) => {
        if (v === null) return flush();
        points.push(`${x(offset + i).toFixed(1)},${y(v).toFixed(1)}`);
      });
      flush();
    }
    // For tests and tooling: what the chart shows now.
    svg.dataset.latest = latest.toFixed(3);
    svg.dataset.max = max.toFixed(3);
    svg.dataset.series = String(series.size);
  }
}
