//! A flow drawn as a graph: what a contact can go through, from the flow's start (and its
//! `on error` route) to where it leaves it (`queue`, `transfer`, `end`, or falling off the
//! end). Nodes are the statements a manager reads a flow by: `say`, `waypoint`, look-ups,
//! menus, asks, branches, queues and the like; `let` and assignments are left out. Edges
//! carry what chose them: a menu key, a condition, `else`, `timeout`, `none`.
//!
//! [`FlowGraph::counts`] puts figures on it (contacts through each waypoint and into each
//! queue, from a daemon's store), and the renderers draw it as DOT, Mermaid or SVG with the
//! counted nodes, and the edges into them, coloured as a heat map.
//!
//! The compiler does no I/O: the counts are handed in.

use crate::syntax::ast::{Block, Expr, ExprKind, FlowDecl, StmtKind, TextPart};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Start,
    OnError,
    Say,
    Waypoint,
    Lookup,
    Decision,
    Menu,
    Ask,
    Action,
    Survey,
    Queue,
    Transfer,
    End,
    /// The flow's last statement ran without handing the contact on.
    FallsOff,
}

impl NodeKind {
    fn terminal(self) -> bool {
        matches!(self, NodeKind::Queue | NodeKind::Transfer | NodeKind::End | NodeKind::FallsOff)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub label: String,
    /// The statement it is: its file and where it starts, as the events a statement gives
    /// name their origin.
    pub origin: Option<Origin>,
    pub count: Option<u64>,
}

/// A statement: its file (as the bundle names it) and the byte its span starts at.
pub type Origin = (String, u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
    pub count: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FlowGraph {
    pub flow: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// What contacts did, from the events a daemon stored: how many went through each
/// statement, and how many went from one statement that gives events to the next (`None`:
/// the contact's first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub statements: BTreeMap<Origin, u64>,
    pub steps: BTreeMap<(Option<Origin>, Origin), u64>,
}

impl Counts {
    /// The counts of contacts' ways through, from the origins of their events: `(session,
    /// origin)` in the order they happened, grouped by session (each session's in a row).
    pub fn of_sessions(origins: impl IntoIterator<Item = (u64, Origin)>) -> Counts {
        let mut counts = Counts::default();
        let mut path = Vec::new();
        let mut session = None;
        for (s, origin) in origins {
            if session != Some(s) {
                counts.add_path(&path);
                path.clear();
                session = Some(s);
            }
            path.push(origin);
        }
        counts.add_path(&path);
        counts
    }

    /// Adds one contact's way through: the origins of its events, in order (repeats of
    /// one statement in a row, as a `say` on a menu's retry, count once).
    pub fn add_path(&mut self, origins: &[Origin]) {
        let mut previous: Option<&Origin> = None;
        for origin in origins {
            if previous == Some(origin) {
                continue;
            }
            *self.statements.entry(origin.clone()).or_default() += 1;
            *self.steps.entry((previous.cloned(), origin.clone())).or_default() += 1;
            previous = Some(origin);
        }
    }
}

const LABEL_CHARS: usize = 48;

/// A label of at most [`LABEL_CHARS`] characters on one line.
fn clip(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= LABEL_CHARS {
        one_line
    } else {
        let mut s: String = one_line.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

struct Builder<'a> {
    source: &'a str,
    path: &'a str,
    /// The statement being drawn.
    at: u32,
    graph: FlowGraph,
}

/// Where control leaves a piece of the graph: which node, by which edge label.
type Exits = Vec<(usize, String)>;

impl Builder<'_> {
    fn node(&mut self, kind: NodeKind, label: String) -> usize {
        let origin = match kind {
            NodeKind::Start | NodeKind::OnError | NodeKind::FallsOff => None,
            _ => Some((self.path.to_string(), self.at)),
        };
        self.graph.nodes.push(Node { kind, label: clip(&label), origin, count: None });
        self.graph.nodes.len() - 1
    }

    fn join(&mut self, from: &Exits, to: usize) {
        for (node, label) in from {
            self.graph.edges.push(Edge { from: *node, to, label: clip(label), count: None });
        }
    }

    /// A node the exits lead into, and out of which one plain exit goes on.
    fn step(&mut self, from: Exits, kind: NodeKind, label: String) -> Exits {
        let n = self.node(kind, label);
        self.join(&from, n);
        if kind.terminal() {
            Vec::new()
        } else {
            vec![(n, String::new())]
        }
    }

    fn text(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Text(parts) => parts
                .iter()
                .map(|p| match p {
                    TextPart::Lit(s) => s.clone(),
                    TextPart::Expr(e) => format!("{{{}}}", self.written(e)),
                })
                .collect(),
            // `{ en: "…", es: "…" }`: the first language.
            ExprKind::Record(fields) => fields.first().map(|(_, e)| self.text(e)).unwrap_or_default(),
            _ => self.written(e),
        }
    }

    /// An expression as it is written.
    fn written(&self, e: &Expr) -> String {
        self.source.get(e.span.start as usize..e.span.end as usize).unwrap_or("…").to_string()
    }

    fn block(&mut self, block: &Block, mut exits: Exits) -> Exits {
        for stmt in &block.stmts {
            if exits.is_empty() {
                break; // after a `queue`, `transfer` or `end`: nothing runs
            }
            self.at = stmt.span.start;
            exits = match &stmt.kind {
                StmtKind::Let { .. } | StmtKind::Assign { .. } => exits,
                StmtKind::Say(e) => {
                    let label = format!("say “{}”", self.text(e));
                    self.step(exits, NodeKind::Say, label)
                }
                StmtKind::Waypoint(name) => self.step(exits, NodeKind::Waypoint, name.name.clone()),
                StmtKind::Lookup { name, source, key, else_block } => {
                    let label = format!("{} = lookup {} by {}", name.name, source.name, self.written(key));
                    let n = self.node(NodeKind::Lookup, label);
                    self.join(&exits, n);
                    match else_block {
                        Some(b) => {
                            let mut out = self.block(b, vec![(n, "none".to_string())]);
                            out.push((n, "found".to_string()));
                            out
                        }
                        None => vec![(n, String::new())],
                    }
                }
                StmtKind::If { branches, else_block } => {
                    let n = self.node(NodeKind::Decision, "if".to_string());
                    self.join(&exits, n);
                    let mut out = Vec::new();
                    for (i, (cond, body)) in branches.iter().enumerate() {
                        let label = if i == 0 { self.written(cond) } else { format!("else if {}", self.written(cond)) };
                        out.extend(self.block(body, vec![(n, label)]));
                    }
                    match else_block {
                        Some(b) => out.extend(self.block(b, vec![(n, "else".to_string())])),
                        None => out.push((n, "else".to_string())),
                    }
                    out
                }
                StmtKind::Match { scrutinee, arms } => {
                    let n = self.node(NodeKind::Decision, format!("match {}", self.written(scrutinee)));
                    self.join(&exits, n);
                    let mut out = Vec::new();
                    for arm in arms {
                        let label = if arm.patterns.is_empty() {
                            "_".to_string()
                        } else {
                            arm.patterns.iter().map(|p| self.written(p)).collect::<Vec<_>>().join(" | ")
                        };
                        out.extend(self.block(&arm.body, vec![(n, label)]));
                    }
                    out
                }
                StmtKind::Menu(menu) => {
                    let n = self.node(NodeKind::Menu, format!("menu “{}”", self.text(&menu.prompt)));
                    self.join(&exits, n);
                    let mut out = Vec::new();
                    for option in &menu.options {
                        let label = match &option.label {
                            Some(l) => format!("{} {}", option.key.value, l.value),
                            None => option.key.value.clone(),
                        };
                        out.extend(self.block(&option.body, vec![(n, label)]));
                    }
                    if let Some(t) = &menu.timeout {
                        out.extend(self.block(&t.body, vec![(n, "timeout".to_string())]));
                    }
                    out
                }
                StmtKind::Ask(ask) => {
                    let label = format!("ask {} “{}”", ask.name.name, self.text(&ask.prompt));
                    let n = self.node(NodeKind::Ask, label);
                    self.join(&exits, n);
                    match &ask.else_block {
                        Some(b) => {
                            let mut out = vec![(n, "answered".to_string())];
                            out.extend(self.block(b, vec![(n, "no answer".to_string())]));
                            out
                        }
                        None => vec![(n, String::new())],
                    }
                }
                StmtKind::Queue(q) => {
                    let mut label = format!("queue {}", q.queue.name);
                    if q.vip {
                        label.push_str(" vip");
                    }
                    if let Some(p) = &q.priority {
                        let _ = write!(label, " priority {:+}", p.value);
                    }
                    self.step(exits, NodeKind::Queue, label)
                }
                StmtKind::Transfer(to) => {
                    let label = format!("transfer to {}", self.written(to));
                    self.step(exits, NodeKind::Transfer, label)
                }
                StmtKind::End => self.step(exits, NodeKind::End, "end".to_string()),
                StmtKind::Survey(s) => self.step(exits, NodeKind::Survey, format!("survey {}", s.name)),
                StmtKind::OfferCallback { keep_place } => {
                    let label = if *keep_place { "offer callback keep place" } else { "offer callback" };
                    self.step(exits, NodeKind::Action, label.to_string())
                }
                StmtKind::CollectPayment(e) => {
                    let label = format!("collect payment {}", self.written(e));
                    self.step(exits, NodeKind::Action, label)
                }
                StmtKind::Send { medium, to, .. } => {
                    let label = format!("send {} to {}", medium.name, self.written(to));
                    self.step(exits, NodeKind::Action, label)
                }
                StmtKind::StartRetry { retry, arg } => {
                    let label = format!("start retry {} for {}", retry.name, self.written(arg));
                    self.step(exits, NodeKind::Action, label)
                }
                // Scripts' and retries' own statements do not occur in flows (`check` says
                // so); drawn as what they are if they ever do.
                StmtKind::Note(_)
                | StmtKind::Choose { .. }
                | StmtKind::Goto(_)
                | StmtKind::Outcome(_)
                | StmtKind::Call { .. }
                | StmtKind::Again { .. }
                | StmtKind::Stop => {
                    let label = clip(self.source.get(stmt.span.start as usize..stmt.span.end as usize).unwrap_or("…"));
                    self.step(exits, NodeKind::Action, label)
                }
            };
        }
        exits
    }
}

/// Every flow of a checked project's own files (not the standard library's), drawn, in
/// the order of its files.
pub fn flows_of(checked: &crate::check::Checked) -> Vec<FlowGraph> {
    let mut graphs = Vec::new();
    for (file, ast) in checked.module_files(0) {
        let source = &checked.files[file.0 as usize];
        for item in &ast.items {
            if let crate::syntax::ast::ItemKind::Flow(flow) = &item.kind {
                graphs.push(FlowGraph::of(flow, &source.path, &source.text));
            }
        }
    }
    graphs
}

impl FlowGraph {
    /// The graph of `flow`, of the file at `path` (as the bundle names it) whose text is
    /// `source` (labels quote it).
    pub fn of(flow: &FlowDecl, path: &str, source: &str) -> FlowGraph {
        let mut b = Builder {
            source,
            path,
            at: 0,
            graph: FlowGraph { flow: flow.name.name.clone(), nodes: Vec::new(), edges: Vec::new() },
        };
        let channels = flow.channels.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
        let start = b.node(NodeKind::Start, format!("{} on {channels}", flow.name.name));
        let exits = b.block(&flow.body, vec![(start, String::new())]);
        if !exits.is_empty() {
            b.step(exits, NodeKind::FallsOff, "flow ends".to_string());
        }
        if let Some(on_error) = &flow.on_error {
            let n = b.node(NodeKind::OnError, "on error".to_string());
            let exits = b.block(on_error, vec![(n, String::new())]);
            if !exits.is_empty() {
                b.step(exits, NodeKind::FallsOff, "flow ends".to_string());
            }
        }
        b.graph
    }

    /// Puts `counts` on the statements contacts went through, and on the edges between
    /// them. A step between two statements that give events follows the one way between
    /// them through statements that give none (an `if`, a `let`), when there is one.
    pub fn counts(&mut self, counts: &Counts) {
        // Statements that give an event whenever a contact passes them; the rest (an `if`,
        // a `menu`, whose choice is an input) are passed through silently.
        let speaks = |n: &Node| {
            matches!(
                n.kind,
                NodeKind::Say
                    | NodeKind::Waypoint
                    | NodeKind::Lookup
                    | NodeKind::Queue
                    | NodeKind::End
                    | NodeKind::Transfer
            ) || n.origin.as_ref().is_some_and(|o| counts.statements.contains_key(o))
        };
        for node in &mut self.nodes {
            if let Some(origin) = &node.origin {
                if counts.statements.contains_key(origin) || speaks(node) {
                    node.count = Some(counts.statements.get(origin).copied().unwrap_or(0));
                }
            }
        }
        let index: BTreeMap<&Origin, usize> =
            self.nodes.iter().enumerate().filter_map(|(i, n)| n.origin.as_ref().map(|o| (o, i))).collect();
        let starts: Vec<usize> =
            self.nodes.iter().enumerate().filter(|(_, n)| n.kind == NodeKind::Start).map(|(i, _)| i).collect();
        let mut edge_counts = vec![0u64; self.edges.len()];
        for ((from, to), n) in &counts.steps {
            let Some(&to) = index.get(to) else { continue };
            let from = match from {
                Some(f) => match index.get(f) {
                    Some(&f) => f,
                    None => continue,
                },
                None => match starts.first() {
                    Some(&s) => s,
                    None => continue,
                },
            };
            if let Some(path) = self.silent_path(from, to, &speaks) {
                for e in path {
                    edge_counts[e] += n;
                }
            }
        }
        for (e, n) in self.edges.iter_mut().zip(edge_counts) {
            if self.nodes[e.to].count.is_some() || n > 0 {
                e.count = Some(n);
            }
        }
    }

    /// The edges of the one way from `from` to `to` through nodes that give no events, if
    /// there is exactly one.
    fn silent_path(&self, from: usize, to: usize, speaks: &dyn Fn(&Node) -> bool) -> Option<Vec<usize>> {
        let mut found: Vec<Vec<usize>> = Vec::new();
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(from, Vec::new())];
        while let Some((at, path)) = stack.pop() {
            for (i, e) in self.edges.iter().enumerate().filter(|(_, e)| e.from == at) {
                let mut next = path.clone();
                next.push(i);
                if e.to == to {
                    found.push(next);
                } else if !speaks(&self.nodes[e.to]) && next.len() < 64 {
                    stack.push((e.to, next));
                }
            }
            if found.len() > 1 {
                return None;
            }
        }
        found.pop()
    }

    fn max_count(&self) -> u64 {
        self.nodes.iter().filter_map(|n| n.count).max().unwrap_or(0).max(1)
    }

    /// A colour from pale yellow (none) to deep red (the most), for a count.
    fn heat(&self, count: u64) -> String {
        let t = count as f64 / self.max_count() as f64;
        let (r, g, b) = (255.0, 245.0 - 200.0 * t, 200.0 - 180.0 * t);
        format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
    }

    fn node_text(&self, n: &Node) -> String {
        match n.count {
            Some(c) => format!("{} ({c})", n.label),
            None => n.label.clone(),
        }
    }

    fn edge_text(e: &Edge) -> String {
        match (e.label.is_empty(), e.count) {
            (true, None) => String::new(),
            (true, Some(c)) => c.to_string(),
            (false, None) => e.label.clone(),
            (false, Some(c)) => format!("{} ({c})", e.label),
        }
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out = format!("digraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"sans-serif\" fontsize=11];\n  edge [fontname=\"sans-serif\" fontsize=10];\n", q(&self.flow));
        for (i, n) in self.nodes.iter().enumerate() {
            let shape = match n.kind {
                NodeKind::Start | NodeKind::OnError => "oval",
                NodeKind::Decision | NodeKind::Menu | NodeKind::Ask | NodeKind::Lookup => "diamond",
                NodeKind::Waypoint => "cds",
                NodeKind::Queue | NodeKind::Transfer | NodeKind::End | NodeKind::FallsOff => "doubleoctagon",
                _ => "box",
            };
            let mut attrs = format!("shape={shape} label=\"{}\"", q(&self.node_text(n)));
            if let Some(c) = n.count {
                let _ = write!(attrs, " style=filled fillcolor=\"{}\"", self.heat(c));
            }
            let _ = writeln!(out, "  n{i} [{attrs}];");
        }
        for e in &self.edges {
            let mut attrs = format!("label=\"{}\"", q(&Self::edge_text(e)));
            if let Some(c) = e.count {
                let width = 1.0 + 4.0 * c as f64 / self.max_count() as f64;
                let _ = write!(attrs, " color=\"{}\" penwidth={width:.1}", self.heat(c));
            }
            let _ = writeln!(out, "  n{} -> n{} [{attrs}];", e.from, e.to);
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        // Mermaid takes `#quot;` for a double quote inside a quoted label.
        let q = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart TD\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let text = q(&self.node_text(n));
            let shape = match n.kind {
                NodeKind::Start | NodeKind::OnError => format!("([\"{text}\"])"),
                NodeKind::Decision | NodeKind::Menu | NodeKind::Ask | NodeKind::Lookup => format!("{{\"{text}\"}}"),
                NodeKind::Waypoint => format!(">\"{text}\"]"),
                NodeKind::Queue | NodeKind::Transfer | NodeKind::End | NodeKind::FallsOff => format!("[[\"{text}\"]]"),
                _ => format!("[\"{text}\"]"),
            };
            let _ = writeln!(out, "  n{i}{shape}");
        }
        for e in &self.edges {
            let text = Self::edge_text(e);
            if text.is_empty() {
                let _ = writeln!(out, "  n{} --> n{}", e.from, e.to);
            } else {
                let _ = writeln!(out, "  n{} -->|\"{}\"| n{}", e.from, q(&text), e.to);
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some(c) = n.count {
                let _ = writeln!(out, "  style n{i} fill:{}", self.heat(c));
            }
        }
        out
    }

    /// A standalone SVG: nodes in layers by their longest path from the start, in the order
    /// they were met within a layer; edges as curves from the bottom of one box to the top
    /// of the next (up the side for an edge that goes back).
    pub fn to_svg(&self) -> String {
        const W: f64 = 300.0;
        const H: f64 = 34.0;
        const GAP_X: f64 = 40.0;
        const GAP_Y: f64 = 56.0;
        let n = self.nodes.len();
        // Layers: longest path from a root, along edges that go forward in node order
        // (the builder makes nodes in the order control meets them).
        let mut layer = vec![0usize; n];
        for e in &self.edges {
            if e.to > e.from {
                layer[e.to] = layer[e.to].max(layer[e.from] + 1);
            }
        }
        // Edges are made in node order, so one pass settles most; repeat until fixed.
        loop {
            let mut changed = false;
            for e in &self.edges {
                if e.to > e.from && layer[e.to] < layer[e.from] + 1 {
                    layer[e.to] = layer[e.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let layers = layer.iter().max().map_or(0, |m| m + 1);
        let mut column = vec![0usize; n];
        let mut width = vec![0usize; layers];
        for i in 0..n {
            column[i] = width[layer[i]];
            width[layer[i]] += 1;
        }
        let widest = width.iter().copied().max().unwrap_or(1).max(1);
        let total_w = widest as f64 * (W + GAP_X) + GAP_X;
        let total_h = layers as f64 * (H + GAP_Y) + GAP_Y;
        let pos = |i: usize| {
            let row_w = width[layer[i]] as f64 * (W + GAP_X) - GAP_X;
            let x = (total_w - row_w) / 2.0 + column[i] as f64 * (W + GAP_X);
            let y = GAP_Y / 2.0 + layer[i] as f64 * (H + GAP_Y);
            (x, y)
        };
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {total_w:.0} {total_h:.0}\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"flow {}\">\n<title>flow {}</title>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n",
            esc(&self.flow),
            esc(&self.flow)
        );
        for e in &self.edges {
            let (fx, fy) = pos(e.from);
            let (tx, ty) = pos(e.to);
            let (x1, y1, x2, y2) = (fx + W / 2.0, fy + H, tx + W / 2.0, ty);
            let d = if ty > fy {
                let mid = (y1 + y2) / 2.0;
                format!("M{x1:.1},{y1:.1} C{x1:.1},{mid:.1} {x2:.1},{mid:.1} {x2:.1},{y2:.1}")
            } else {
                // Back up the page: out of the right side, round, into the right side.
                let (sx, sy, ex, ey) = (fx + W, fy + H / 2.0, tx + W, ty + H / 2.0);
                let bend = sx.max(ex) + GAP_X * 0.8;
                format!("M{sx:.1},{sy:.1} C{bend:.1},{sy:.1} {bend:.1},{ey:.1} {ex:.1},{ey:.1}")
            };
            let (stroke, width) = match e.count {
                Some(c) => (self.heat(c), 1.5 + 4.0 * c as f64 / self.max_count() as f64),
                None => ("#888".to_string(), 1.2),
            };
            let _ = writeln!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width:.1}\" marker-end=\"url(#arrow)\"/>"
            );
            let text = Self::edge_text(e);
            if !text.is_empty() {
                let (lx, ly) = if ty > fy {
                    ((x1 + x2) / 2.0 + 6.0, (y1 + y2) / 2.0 - 4.0)
                } else {
                    (fx + W + 8.0, (fy + ty) / 2.0 + H / 2.0)
                };
                let _ = writeln!(
                    out,
                    "<text x=\"{lx:.1}\" y=\"{ly:.1}\" fill=\"#333\" font-size=\"10\">{}</text>",
                    esc(&text)
                );
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let (x, y) = pos(i);
            let fill = match (node.count, node.kind) {
                (Some(c), _) => self.heat(c),
                (None, NodeKind::Start | NodeKind::OnError) => "#dbeafe".to_string(),
                (None, NodeKind::Decision | NodeKind::Menu | NodeKind::Ask | NodeKind::Lookup) => "#f3e8ff".to_string(),
                (None, NodeKind::End | NodeKind::Transfer | NodeKind::FallsOff) => "#e5e7eb".to_string(),
                _ => "#ffffff".to_string(),
            };
            let rx = match node.kind {
                NodeKind::Start | NodeKind::OnError => 17.0,
                NodeKind::Decision | NodeKind::Menu | NodeKind::Ask | NodeKind::Lookup => 10.0,
                _ => 3.0,
            };
            let _ = writeln!(
                out,
                "<g class=\"node {:?}\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{W}\" height=\"{H}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"#444\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\">{}</text></g>",
                node.kind,
                x + W / 2.0,
                y + H / 2.0,
                esc(&self.node_text(node))
            );
        }
        out.push_str("</svg>\n");
        out
    }
}
