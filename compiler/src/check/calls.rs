//! The `fn` call graph of one module, analysed once: which functions can fail at run time,
//! which call themselves through others, and how long a text each returns at least (see
//! `sizes`).
//!
//! What can fail the contact at run time, so that a flow without `on error` gets a
//! `no-route` warning: a call to an `extern fn` (its script may err or run past its
//! limits), a division whose divisor is not a constant other than zero (the run time fails
//! on a division by zero), and a call to a `fn` whose body holds either, or calls one that
//! does.
//!
//! **Architecture Invariant:** this analysis is linear in the size of the graph and never
//! recurses on its depth. Strongly connected components are found with an iterative
//! Tarjan; each function's answer is then read off its component, so a chain of 5,000
//! `fn`s, or 25 that each call the next twice, costs what their bodies cost to visit.

use super::decls::visit_expr;
use super::sizes::{fn_form, TextForm};
use super::symbols::{Callable, Symbols};
use crate::syntax::ast::*;
use std::collections::{HashMap, HashSet};

/// Why an expression can fail the contact at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A call to an `extern fn`, or to a `fn` that can fail.
    Call,
    /// A division whose divisor is not a constant other than zero.
    Division,
}

/// The call graph of one module's `fn`s (its own and those it imports).
#[derive(Debug, Default)]
pub struct CallGraph<'a> {
    /// `fn` name → node.
    index: HashMap<&'a str, usize>,
    /// Each node's calls to other `fn`s (nodes), in the order its body makes them.
    calls: Vec<Vec<usize>>,
    /// The strongly connected component of each node.
    component: Vec<usize>,
    /// Nodes that can reach themselves: in a component of two or more, or calling itself.
    cyclic: Vec<bool>,
    /// Nodes whose call can fail: their body fails, or calls a `fn` that can.
    fails: Vec<bool>,
    /// The `extern fn`s: every call to one can fail.
    externs: HashSet<&'a str>,
    /// The least length of the text each node returns; none for a node in a ring.
    text_forms: Vec<Option<TextForm>>,
}

impl<'a> CallGraph<'a> {
    pub fn new(syms: &Symbols<'a>) -> CallGraph<'a> {
        let mut graph = CallGraph::default();
        let mut bodies: Vec<&'a Expr> = Vec::new();
        let mut params: Vec<&'a [Param]> = Vec::new();
        let mut names: Vec<&'a str> = syms.callables.keys().copied().collect();
        // Node numbers do not change what is found, but a fixed order keeps runs alike.
        names.sort_unstable();
        for name in names {
            match &syms.callables[name] {
                Callable::Fn(d) => {
                    graph.index.insert(name, bodies.len());
                    bodies.push(&d.node.body);
                    params.push(&d.node.params);
                }
                Callable::Extern(_) => {
                    graph.externs.insert(name);
                }
            }
        }
        let mut own_failure = vec![false; bodies.len()];
        for (node, body) in bodies.iter().enumerate() {
            let mut calls = Vec::new();
            visit_expr(body, &mut |e| {
                if let ExprKind::Call { callee, .. } = &e.kind {
                    if let Some(&to) = graph.index.get(callee.name.as_str()) {
                        calls.push(to);
                    } else if graph.externs.contains(callee.name.as_str()) {
                        own_failure[node] = true;
                    }
                }
                if risky_division(e) {
                    own_failure[node] = true;
                }
            });
            graph.calls.push(calls);
        }
        graph.components();
        // Tarjan numbers components callees first: a component's calls all lead to
        // components numbered no higher, so one pass in that order settles every answer.
        let count = graph.component.iter().map(|c| c + 1).max().unwrap_or(0);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (node, &c) in graph.component.iter().enumerate() {
            members[c].push(node);
        }
        let mut component_fails = vec![false; count];
        for (c, nodes) in members.iter().enumerate() {
            component_fails[c] = nodes.iter().any(|&n| {
                own_failure[n]
                    || graph.calls[n].iter().any(|&to| graph.component[to] != c && component_fails[graph.component[to]])
            });
        }
        graph.fails = graph.component.iter().map(|&c| component_fails[c]).collect();
        graph.cyclic =
            (0..bodies.len()).map(|n| members[graph.component[n]].len() > 1 || graph.calls[n].contains(&n)).collect();
        // Callees first, as above: a `fn` outside any ring calls only `fn`s already done.
        graph.text_forms = vec![None; bodies.len()];
        for nodes in &members {
            for &n in nodes.iter().filter(|&&n| !graph.cyclic[n]) {
                let form_of = |name: &str| graph.index.get(name).and_then(|&to| graph.text_forms[to].clone());
                let form = fn_form(bodies[n], params[n], &form_of);
                graph.text_forms[n] = Some(form);
            }
        }
        graph
    }

    /// Tarjan's strongly connected components, with an explicit stack.
    fn components(&mut self) {
        const UNSEEN: usize = usize::MAX;
        let n = self.calls.len();
        let mut order = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        self.component = vec![UNSEEN; n];
        let mut next_order = 0;
        let mut next_component = 0;
        // (node, how many of its calls are done)
        let mut work: Vec<(usize, usize)> = Vec::new();
        for root in 0..n {
            if order[root] != UNSEEN {
                continue;
            }
            work.push((root, 0));
            while let Some(&(node, done)) = work.last() {
                if done == 0 && order[node] == UNSEEN {
                    order[node] = next_order;
                    low[node] = next_order;
                    next_order += 1;
                    stack.push(node);
                    on_stack[node] = true;
                }
                if let Some(&to) = self.calls[node].get(done) {
                    let top = work.len() - 1;
                    work[top].1 += 1;
                    if order[to] == UNSEEN {
                        work.push((to, 0));
                    } else if on_stack[to] {
                        low[node] = low[node].min(order[to]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == order[node] {
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        self.component[member] = next_component;
                        if member == node {
                            break;
                        }
                    }
                    next_component += 1;
                }
            }
        }
    }

    /// The least length of the text `fn name` returns, as a function of its arguments'.
    pub fn text_form(&self, name: &str) -> Option<&TextForm> {
        self.index.get(name).and_then(|&n| self.text_forms[n].as_ref())
    }

    /// Whether calling `name` can fail: an `extern fn`, or a `fn` that can.
    pub fn can_fail(&self, name: &str) -> bool {
        self.externs.contains(name) || self.index.get(name).is_some_and(|&n| self.fails[n])
    }

    /// Where `body`, the body of `fn name`, calls back into `name` (directly or through
    /// others): the first such call it makes.
    pub fn calls_back(&self, name: &str, body: &Expr) -> Option<Span> {
        // The component of `name`, when it has one that leads back to it.
        let ring = self.index.get(name).filter(|&&me| self.cyclic[me]).map(|&me| self.component[me]);
        let mut hit = None;
        visit_expr(body, &mut |e| {
            if hit.is_some() {
                return;
            }
            if let ExprKind::Call { callee, .. } = &e.kind {
                let into_ring =
                    || self.index.get(callee.name.as_str()).is_some_and(|&to| Some(self.component[to]) == ring);
                if callee.name == name || into_ring() {
                    hit = Some(callee.span);
                }
            }
        });
        hit
    }

    /// How `e` itself can fail, not counting the expressions inside it.
    pub fn failure(&self, e: &Expr) -> Option<Failure> {
        match &e.kind {
            ExprKind::Call { callee, .. } if self.can_fail(&callee.name) => Some(Failure::Call),
            _ if risky_division(e) => Some(Failure::Division),
            _ => None,
        }
    }
}

/// A division by what may be zero: the run time fails the contact on one.
fn risky_division(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Binary { op: BinaryOp::Div, rhs, .. } => {
            !const_number(rhs).is_some_and(|n| n != 0.0 && n.is_finite())
        }
        _ => false,
    }
}

/// The value of a number written with constants only (`2`, `-(60 * 60)`, `50%`).
pub fn const_number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Number(n) => Some(*n),
        ExprKind::Percent(p) => Some(p / 100.0),
        ExprKind::Paren(inner) => const_number(inner),
        ExprKind::Unary { op: UnaryOp::Neg, expr } => const_number(expr).map(|n| -n),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (const_number(lhs)?, const_number(rhs)?);
            match op {
                BinaryOp::Add => Some(a + b),
                BinaryOp::Sub => Some(a - b),
                BinaryOp::Mul => Some(a * b),
                BinaryOp::Div if b != 0.0 => Some(a / b),
                _ => None,
            }
        }
        _ => None,
    }
}
