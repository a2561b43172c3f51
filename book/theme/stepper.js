// The step-through viewer for resgrad's JSON traces (Tape::to_json).
//
// A page holds the trace inline, so it works from file:// as well as http:
//
//   <div class="stepper" data-trace="ID"></div>
//   <script type="application/json" id="ID">{{#include trace.json}}</script>
//
// The viewer makes one step per tape entry forwards (each node's value), then
// one per entry backwards (the reverse sweep): the gradient a node holds, the
// contributions it received (shown as a sum when there are several, so the
// skip's share is seen being added to the branch's) and what its rule sends
// to each input. No library, no network.
//
// Keys, once the viewer (or one of its buttons) has focus: ← and → step
// back and forth, Home and End jump to the ends. They are kept from mdBook,
// which would otherwise turn the page to the previous or next chapter.
(function () {
    "use strict";

    // Each op's rule in one line, as in the op's source file.
    var RULES = {
        leaf: ["an input or parameter", "keeps the gradient it receives"],
        const: ["a constant", "takes no gradient"],
        add: ["y = a + b", "da = dy,  db = dy   (both inputs get dy unchanged)"],
        sub: ["y = a − b", "da = dy,  db = −dy"],
        mul: ["y = a ⊙ b", "da = dy ⊙ b,  db = dy ⊙ a"],
        matmul: ["Y = A · B", "dA = dY · Bᵀ,  dB = Aᵀ · dY"],
        add_bias: ["y[i, j] = x[i, j] + b[j]", "dx = dy,  db[j] = Σᵢ dy[i, j]"],
        relu: ["y = max(x, 0)", "dx = dy ⊙ 1[x > 0]"],
        gelu: ["y = x · Φ(x)", "dx = dy ⊙ (Φ(x) + x · φ(x))"],
        tanh: ["y = tanh(x)", "dx = dy ⊙ (1 − y²)"],
        exp: ["y = exp(x)", "dx = dy ⊙ y"],
        scale: ["y = c · x", "dx = c · dy"],
        sum: ["y = Σ x", "dx = dy  (copied to every element)"],
        mean: ["y = (1/n) Σ x", "dx = dy / n  (for every element)"],
        softmax: ["y = exp(x − max) / Σ exp(x − max), per row", "dx = y ⊙ (dy − Σⱼ dyⱼ yⱼ)"],
        layer_norm: ["y = γ ⊙ (x − μ) / σ + β, per row", "dx = (1/σ)(dx̂ − mean(dx̂) − x̂ ⊙ mean(dx̂ ⊙ x̂)), dx̂ = dy ⊙ γ"],
        transpose: ["Y = Xᵀ", "dX = dYᵀ"],
        reshape: ["same numbers, new shape", "dx = dy reshaped back"]
    };

    function fmt(v) {
        if (typeof v === "string") return v; // "inf", "-inf", "nan"
        if (v === 0) return "0";
        var a = Math.abs(v);
        if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
        return v.toFixed(4);
    }

    function norm(values) {
        var s = 0;
        for (var i = 0; i < values.length; i++) if (typeof values[i] === "number") s += values[i] * values[i];
        return Math.sqrt(s);
    }

    function el(tag, attrs, text) {
        var e = document.createElement(tag);
        for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
        if (text !== undefined) e.textContent = text;
        return e;
    }

    function svgEl(tag, attrs) {
        var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
        for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
        return e;
    }

    // A tensor as a small table: rows are the last dimension.
    function matrix(values, shape) {
        var cols = shape.length ? shape[shape.length - 1] : 1;
        var table = el("table", { class: "stepper-matrix" });
        for (var r = 0; r * cols < values.length; r++) {
            var tr = el("tr");
            for (var c = 0; c < cols; c++) {
                var v = values[r * cols + c];
                var td = el("td", {}, fmt(v));
                if (typeof v === "number" && v < 0) td.className = "neg";
                tr.appendChild(td);
            }
            table.appendChild(tr);
        }
        return table;
    }

    function ordinal(k) {
        return ["first", "second", "third"][k] || "#" + (k + 1);
    }

    function nodeName(n) {
        return "#" + n.id + " " + n.op + (n.label ? " " + n.label : "");
    }

    function Stepper(root, trace) {
        this.root = root;
        this.nodes = trace.nodes;
        this.n = this.nodes.length;
        this.step = 0;
        this.analyse();
        this.build();
        this.render();
    }

    // Who sends what to whom, and which edges are skips: an input of an
    // `add` that the add's other input also depends on.
    Stepper.prototype.analyse = function () {
        var nodes = this.nodes;
        var ancestors = nodes.map(function () { return {}; });
        nodes.forEach(function (n) {
            n.inputs.forEach(function (i) {
                ancestors[n.id][i] = true;
                for (var a in ancestors[i]) ancestors[n.id][a] = true;
            });
        });
        // [{from, grad, nth}] in sweep order; nth counts the sender's uses of
        // this value (0, 1 when an op took it twice, as y ⊙ y does).
        this.received = nodes.map(function () { return []; });
        var received = this.received;
        for (var id = nodes.length - 1; id >= 0; id--) {
            var uses = {};
            (nodes[id].sent || []).forEach(function (s) {
                uses[s.to] = (uses[s.to] || 0) + 1;
                received[s.to].push({ from: id, grad: s.grad, nth: uses[s.to] - 1 });
            });
        }
        this.skip = {}; // "from->to" for skip edges
        var skip = this.skip;
        nodes.forEach(function (n) {
            if (n.op !== "add" || n.inputs.length !== 2) return;
            var a = n.inputs[0], b = n.inputs[1];
            if (ancestors[b][a]) skip[a + "->" + n.id] = true;
            if (ancestors[a][b]) skip[b + "->" + n.id] = true;
        });
        // The entries a skip starts from: their other uses are the branch.
        this.skipSource = {};
        for (var edge in skip) this.skipSource[+edge.split("->")[0]] = true;
    };

    Stepper.prototype.build = function () {
        var self = this;
        this.root.textContent = "";
        var controls = el("div", { class: "stepper-controls" });
        var buttons = [
            ["first", "Start", function () { self.go(0); }],
            ["prev", "◀ Back", function () { self.go(self.step - 1); }],
            ["next", "Next ▶", function () { self.go(self.step + 1); }],
            ["last", "End", function () { self.go(2 * self.n - 1); }]
        ];
        this.buttons = {};
        buttons.forEach(function (b) {
            var button = el("button", { type: "button", class: "stepper-" + b[0] }, b[1]);
            button.addEventListener("click", b[2]);
            controls.appendChild(button);
            self.buttons[b[0]] = button;
        });
        this.label = el("span", { class: "stepper-label", "aria-live": "polite" });
        controls.appendChild(this.label);
        this.root.appendChild(controls);

        // The keyboard: the whole viewer takes focus (Tab, or a click on it).
        this.root.setAttribute("tabindex", "0");
        this.root.setAttribute("role", "group");
        this.root.setAttribute("aria-label", "step-through of the tape; left and right arrow keys step back and forth");
        this.root.addEventListener("keydown", function (e) {
            if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
            var to = { ArrowRight: self.step + 1, ArrowLeft: self.step - 1, Home: 0, End: 2 * self.n - 1 }[e.key];
            if (to === undefined) return;
            e.preventDefault();
            e.stopPropagation(); // not mdBook's previous/next chapter
            self.go(to);
        });

        // What the colours mean, kept in view next to the drawing.
        var legend = el("p", { class: "stepper-legend" });
        [["skip", "the skip (dashed)"], ["forward", "forward: the active op's inputs"],
            ["backward", "backward: what it sends"], ["arrived", "backward: what it received"]].forEach(function (item) {
            var entry = el("span", { class: "stepper-key" });
            var swatch = svgEl("svg", { width: 26, height: 10, "aria-hidden": "true" });
            swatch.appendChild(svgEl("path", { d: "M 1 5 H 25", class: "stepper-edge " + ({
                skip: "skip", forward: "live-forward", backward: "live-backward", arrived: "live-arrived" })[item[0]] }));
            entry.appendChild(swatch);
            entry.appendChild(document.createTextNode(" " + item[1]));
            legend.appendChild(entry);
        });
        legend.appendChild(el("span", { class: "stepper-key stepper-keys-hint" }, "keys: ← →, Home, End"));
        this.root.appendChild(legend);

        var body = el("div", { class: "stepper-body" });
        this.root.appendChild(body);

        // The tape as an arc diagram: one row per entry, in tape order, with
        // an arc from each input to the op that uses it.
        // The arcs' room is set by the longest one, so the drawing is no wider
        // than it needs to be; on a narrow screen it is scaled to fit.
        var span = 1;
        this.nodes.forEach(function (n) {
            n.inputs.forEach(function (i) { span = Math.max(span, n.id - i); });
        });
        var rowH = 26, arcSpace = 14 + 8 * span, width = arcSpace + 310;
        var svg = svgEl("svg", {
            class: "stepper-graph",
            viewBox: "0 0 " + width + " " + (this.n * rowH + 10),
            width: width,
            style: "max-width: 100%; height: auto",
            role: "img",
            "aria-label": "the tape, one row per entry, arcs from inputs to the ops that use them"
        });
        this.edges = [];
        this.rows = [];
        var y = function (id) { return 18 + id * rowH; };
        this.nodes.forEach(function (n) {
            n.inputs.forEach(function (i) {
                var reach = arcSpace - 8 - 8 * (n.id - i);
                var path = svgEl("path", {
                    d: "M " + (arcSpace - 4) + " " + (y(i) - 4) + " C " + reach + " " + (y(i) - 4) + ", " + reach + " " + (y(n.id) - 4) + ", " + (arcSpace - 4) + " " + (y(n.id) - 4),
                    class: "stepper-edge" + (self.skip[i + "->" + n.id] ? " skip" : "")
                });
                path.dataset.from = i;
                path.dataset.to = n.id;
                svg.appendChild(path);
                self.edges.push(path);
            });
        });
        this.nodes.forEach(function (n) {
            var g = svgEl("g", { class: "stepper-node op-" + n.op });
            var rect = svgEl("rect", { x: arcSpace, y: y(n.id) - 16, width: 306, height: rowH - 4, rx: 4 });
            var text = svgEl("text", { x: arcSpace + 6, y: y(n.id) });
            text.textContent = nodeName(n) + "  [" + n.shape.join(", ") + "]";
            var badge = svgEl("text", { x: arcSpace + 300, y: y(n.id), "text-anchor": "end", class: "stepper-badge" });
            g.appendChild(rect);
            g.appendChild(text);
            g.appendChild(badge);
            svg.appendChild(g);
            self.rows.push({ g: g, badge: badge });
        });
        var graphBox = el("div", { class: "stepper-graph-box" });
        graphBox.appendChild(svg);
        body.appendChild(graphBox);

        this.detail = el("div", { class: "stepper-detail" });
        body.appendChild(this.detail);
    };

    Stepper.prototype.go = function (step) {
        this.step = Math.max(0, Math.min(2 * this.n - 1, step));
        this.render();
    };

    Stepper.prototype.render = function () {
        var self = this, n = this.n, step = this.step;
        var forward = step < n;
        var id = forward ? step : 2 * n - 1 - step;
        var node = this.nodes[id];
        this.root.dataset.step = step;
        // A button that is disabled drops the focus, and the arrow keys with
        // it: the viewer takes the focus back.
        var hadFocus = this.root.contains(document.activeElement);
        this.buttons.first.disabled = this.buttons.prev.disabled = step === 0;
        this.buttons.last.disabled = this.buttons.next.disabled = step === 2 * n - 1;
        var focused = document.activeElement;
        if (hadFocus && (!this.root.contains(focused) || focused.disabled)) this.root.focus({ preventScroll: true });
        this.label.textContent = "step " + (step + 1) + " of " + 2 * n + ": " +
            (forward ? "forward, " : "backward, ") + nodeName(node);

        // Rows: done, active, or not reached yet; badges show values' and
        // gradients' sizes as the sweep goes.
        this.rows.forEach(function (row, i) {
            var done = forward ? i < id : i > id;
            var cls = "stepper-node op-" + self.nodes[i].op + (i === id ? " active" : done ? " done" : " pending");
            row.g.setAttribute("class", cls);
            var m = self.nodes[i];
            if (forward) row.badge.textContent = i <= id ? "‖y‖ " + fmt(norm(m.value)) : "";
            else row.badge.textContent = i >= id && m.grad ? "‖dy‖ " + fmt(norm(m.grad)) : "";
        });
        this.edges.forEach(function (e) {
            var from = +e.dataset.from, to = +e.dataset.to, cls = "stepper-edge";
            if (self.skip[from + "->" + to]) cls += " skip";
            if (forward && to === id) cls += " live-forward";
            if (!forward && to === id && node.sent && node.sent.length) cls += " live-backward";
            if (!forward && from === id && self.received[id].some(function (r) { return r.from === to; })) cls += " live-arrived";
            e.setAttribute("class", cls);
        });

        var d = this.detail;
        d.textContent = "";
        var rule = RULES[node.op] || [node.op, "see src/ops/" + node.op + ".rs"];
        d.appendChild(el("h4", {}, nodeName(node) + (node.detail ? " (" + node.detail + ")" : "")));
        if (forward) {
            d.appendChild(el("p", { class: "stepper-rule" }, node.inputs.length
                ? rule[0] + "   with inputs " + node.inputs.map(function (i) { return "#" + i; }).join(", ")
                : rule[0]));
            d.appendChild(el("p", {}, "value, shape [" + node.shape.join(", ") + "]:"));
            d.appendChild(matrix(node.value, node.shape));
            if (id === n - 1) d.appendChild(el("p", {}, "This is the output. Next, the reverse sweep walks the tape from the bottom up."));
            return;
        }
        if (!node.grad) {
            d.appendChild(el("p", {}, "No gradient reaches this entry."));
            return;
        }
        var received = this.received[id];
        if (id === n - 1) {
            d.appendChild(el("p", {}, "The sweep starts here: dL/dL = 1."));
        } else if (received.length === 1) {
            d.appendChild(el("p", {}, "dy arrived from #" + received[0].from + " " + this.nodes[received[0].from].op + ":"));
            d.appendChild(matrix(node.grad, node.shape));
        } else {
            d.appendChild(el("p", { class: "stepper-sum" }, "This value was used " + received.length +
                " times, so its gradient is the sum of what each use sent back (the tape's accumulate):"));
            received.forEach(function (r, k) {
                var isSkip = self.skip[id + "->" + r.from];
                var user = self.nodes[r.from];
                var twice = user.inputs.filter(function (i) { return i === id; }).length > 1;
                var what = isSkip ? " — through the skip: dy of the add, unchanged"
                    : self.skipSource[id] ? " — through the branch"
                    : twice ? ", as its " + ordinal(r.nth) + " input"
                    : "";
                d.appendChild(el("p", { class: isSkip ? "stepper-from skip" : "stepper-from" },
                    (k ? "+ " : "") + "from #" + r.from + " " + user.op + what));
                d.appendChild(matrix(r.grad, node.shape));
            });
            d.appendChild(el("p", { class: "stepper-from total" }, "= dL/d" + (node.label || "#" + id) + ":"));
            d.appendChild(matrix(node.grad, node.shape));
        }
        if (node.sent && node.sent.length) {
            d.appendChild(el("p", { class: "stepper-rule" }, "rule: " + rule[1]));
            var joinsSkip = node.inputs.some(function (i) { return self.skip[i + "->" + id]; });
            var uses = {};
            node.sent.forEach(function (s) {
                uses[s.to] = (uses[s.to] || 0) + 1;
                var target = self.nodes[s.to];
                var isSkip = self.skip[s.to + "->" + id];
                var twice = node.inputs.filter(function (i) { return i === s.to; }).length > 1;
                d.appendChild(el("p", { class: isSkip ? "stepper-from skip" : "stepper-from" },
                    "sends to " + nodeName(target) + (isSkip ? " (the skip)" : joinsSkip ? " (the branch)" : "") +
                    (twice ? ", its " + ordinal(uses[s.to] - 1) + " input" : "") + ":"));
                d.appendChild(matrix(s.grad, target.shape));
            });
        } else if (node.op === "leaf") {
            d.appendChild(el("p", {}, "A leaf: its gradient is final. An optimiser would use it here."));
        }
    };

    function start() {
        var roots = document.querySelectorAll(".stepper[data-trace]");
        for (var i = 0; i < roots.length; i++) {
            var source = document.getElementById(roots[i].getAttribute("data-trace"));
            try {
                new Stepper(roots[i], JSON.parse(source.textContent));
            } catch (e) {
                roots[i].textContent = "The step-through could not start: " + e;
            }
        }
    }

    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
})();
