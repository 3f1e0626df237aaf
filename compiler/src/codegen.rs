//! Checked trees to a `Bundle`. Runs only on projects without errors, so it trusts what
//! the checker proved (names exist, types fit) and never reports anything itself.

use crate::bytecode::*;
use crate::check::symbols::{Callable, Def, Symbols};
use crate::check::Checked;
use crate::diagnostic::FileId;
use crate::loader::Loader;
use crate::syntax::ast::*;
use crate::types::{Channel, ChannelSet, Type};
use crate::value::{Currency, Money, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Compiles a checked project. `Err` when it has errors (nothing is built from them).
pub fn compile(checked: &Checked, loader: &dyn Loader) -> Result<Bundle, String> {
    if checked.has_errors() {
        return Err("the project has errors; run `switchboard check` to see them".to_string());
    }
    let symbols = checked.module_symbols();
    let mut gen = Gen::new(checked, &symbols, loader);
    gen.declare();
    gen.generate();
    Ok(gen.bundle)
}

/// A declaration's key: the module that declared it and its name.
type Key = (Arc<str>, String);

struct Gen<'c> {
    checked: &'c Checked,
    symbols: &'c [Symbols<'c>],
    loader: &'c dyn Loader,
    bundle: Bundle,
    root: Arc<str>,
    constants: HashMap<String, ConstId>,
    queues: HashMap<Key, QueueId>,
    hours: HashMap<Key, HoursId>,
    sources: HashMap<Key, SourceId>,
    records: HashMap<String, RecordId>,
    externs: HashMap<Key, ExternId>,
    fns: HashMap<Key, FuncId>,
    flows: HashMap<Key, FlowId>,
    scripts: HashMap<Key, ScriptId>,
    surveys: HashMap<Key, SurveyId>,
    retries: HashMap<Key, RetryId>,
    /// Functions whose bodies are generated after every id is known.
    pending_fns: Vec<(usize, FuncId, FileId, &'c FnDecl)>,
}

fn key<T>(d: &Def<'_, T>) -> Key {
    (d.module.clone(), d.name.name.clone())
}

impl<'c> Gen<'c> {
    fn new(checked: &'c Checked, symbols: &'c [Symbols<'c>], loader: &'c dyn Loader) -> Gen<'c> {
        let mut hasher = Sha256::new();
        for m in &checked.modules {
            for f in &m.files {
                let file = &checked.files[f.0 as usize];
                hasher.update(file.path.as_bytes());
                hasher.update([0]);
                hasher.update(file.text.as_bytes());
                hasher.update([0]);
            }
        }
        let source_hash = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let currency = symbols.first().and_then(|s| s.currency).and_then(|(_, c)| Currency::parse(&c.name));
        let bundle = Bundle {
            format_version: FORMAT_VERSION,
            source_hash,
            currency,
            files: checked.files.iter().map(|f| f.path.clone()).collect(),
            ..Bundle::default()
        };
        Gen {
            checked,
            symbols,
            loader,
            bundle,
            root: checked.modules[0].name.clone(),
            constants: HashMap::new(),
            queues: HashMap::new(),
            hours: HashMap::new(),
            sources: HashMap::new(),
            records: HashMap::new(),
            externs: HashMap::new(),
            fns: HashMap::new(),
            flows: HashMap::new(),
            scripts: HashMap::new(),
            surveys: HashMap::new(),
            retries: HashMap::new(),
            pending_fns: Vec::new(),
        }
    }

    /// The bundle name of a declaration: plain in the root module, qualified elsewhere.
    fn qualified(&self, module: &str, name: &str) -> String {
        if *module == *self.root {
            name.to_string()
        } else {
            format!("{module}.{name}")
        }
    }

    fn constant(&mut self, v: Value) -> ConstId {
        let k = format!("{v:?}");
        if let Some(id) = self.constants.get(&k) {
            return *id;
        }
        let id = ConstId(self.bundle.constants.len() as u32);
        self.bundle.constants.push(v);
        self.constants.insert(k, id);
        id
    }

    fn text_const(&mut self, s: &str) -> ConstId {
        self.constant(Value::Text(Arc::from(s)))
    }

    fn new_func(&mut self, name: String) -> FuncId {
        let id = FuncId(self.bundle.functions.len() as u32);
        self.bundle.functions.push(Function { name, ..Function::default() });
        id
    }

    fn own<'a, T>(&self, m: usize, defs: impl Iterator<Item = &'a Def<'c, T>>) -> Vec<&'a Def<'c, T>>
    where
        'c: 'a,
    {
        let mut v: Vec<&Def<'c, T>> = defs.filter(|d| d.module == self.checked.modules[m].name).collect();
        v.sort_by_key(|d| (d.file, d.name.span.start));
        v
    }

    /// Gives every declaration of every module its id and its table entry.
    fn declare(&mut self) {
        let syms = self.symbols;
        for (m, s) in syms.iter().enumerate() {
            for d in self.own(m, s.records.values()) {
                let name = d.name.name.clone();
                if self.records.contains_key(&name) {
                    continue;
                }
                let mut ignored = Vec::new();
                let fields = d
                    .node
                    .fields
                    .iter()
                    .map(|f| (f.name.name.clone(), s.resolve_type(d.file, &f.ty, &mut ignored)))
                    .collect();
                self.records.insert(name.clone(), RecordId(self.bundle.records.len() as u32));
                self.bundle.records.push(RecordInfo { name, fields });
            }
            for d in self.own(m, s.enums.values()) {
                self.bundle.enums.push(EnumInfo {
                    name: d.name.name.clone(),
                    variants: d.node.variants.iter().map(|v| v.name.clone()).collect(),
                });
            }
            for d in self.own(m, s.hours.values()) {
                let id = HoursId(self.bundle.hours.len() as u32);
                self.hours.insert(key(d), id);
                let info = hours_info(self.qualified(&d.module, &d.name.name), d.node);
                self.bundle.hours.push(info);
            }
            for d in self.own(m, s.queues.values()) {
                let id = QueueId(self.bundle.queues.len() as u32);
                self.queues.insert(key(d), id);
                let name = self.qualified(&d.module, &d.name.name);
                self.bundle.queues.push(QueueInfo {
                    name,
                    skills: Vec::new(),
                    targets: Vec::new(),
                    priorities: Vec::new(),
                    waiting: Vec::new(),
                    overflow: None,
                });
            }
            for d in self.own(m, s.sources.values()) {
                let id = SourceId(self.bundle.sources.len() as u32);
                self.sources.insert(key(d), id);
                let info = self.source_info(d);
                self.bundle.sources.push(info);
            }
            let mut callables: Vec<&Callable<'c>> =
                s.callables.values().filter(|c| callable_module(c) == &*self.checked.modules[m].name).collect();
            callables.sort_by_key(|c| match c {
                Callable::Fn(d) => (d.file, d.name.span.start),
                Callable::Extern(d) => (d.file, d.name.span.start),
            });
            for c in callables {
                match c {
                    Callable::Fn(d) => {
                        let id = self.new_func(format!("fn {}", self.qualified(&d.module, &d.name.name)));
                        self.fns.insert(key(d), id);
                        self.pending_fns.push((m, id, d.file, d.node));
                    }
                    Callable::Extern(d) => {
                        let id = ExternId(self.bundle.externs.len() as u32);
                        self.externs.insert(key(d), id);
                        let mut ignored = Vec::new();
                        let script = self
                            .loader
                            .load(&d.node.path.value)
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                            .unwrap_or_default();
                        self.bundle.externs.push(ExternInfo {
                            name: d.name.name.clone(),
                            path: d.node.path.value.clone(),
                            script,
                            params: d.node.params.iter().map(|p| s.resolve_type(d.file, &p.ty, &mut ignored)).collect(),
                            ret: s.resolve_type(d.file, &d.node.ret, &mut ignored),
                        });
                    }
                }
            }
            for d in self.own(m, s.flows.values()) {
                self.flows.insert(key(d), FlowId(self.flows.len() as u32));
            }
            for d in self.own(m, s.scripts.values()) {
                self.scripts.insert(key(d), ScriptId(self.scripts.len() as u32));
            }
            for d in self.own(m, s.surveys.values()) {
                self.surveys.insert(key(d), SurveyId(self.surveys.len() as u32));
            }
            for d in self.own(m, s.retries.values()) {
                self.retries.insert(key(d), RetryId(self.retries.len() as u32));
            }
        }
        let mut skills: Vec<String> = syms.iter().flat_map(|s| s.skills.keys().map(|k| k.to_string())).collect();
        skills.sort();
        skills.dedup();
        self.bundle.skills = skills;
        // Names the root module imports from std modules.
        if let Some(root) = syms.first() {
            let mut imports: Vec<Import> = Vec::new();
            let mut add = |name: &str, module: &Arc<str>| {
                if **module != *self.root {
                    imports.push(Import { name: name.to_string(), target: format!("{module}.{name}") });
                }
            };
            for (n, d) in &root.queues {
                add(n, &d.module);
            }
            for (n, d) in &root.surveys {
                add(n, &d.module);
            }
            for (n, d) in &root.scripts {
                add(n, &d.module);
            }
            for (n, d) in &root.retries {
                add(n, &d.module);
            }
            for (n, d) in &root.flows {
                add(n, &d.module);
            }
            for (n, d) in &root.sources {
                add(n, &d.module);
            }
            imports.sort_by(|a, b| a.name.cmp(&b.name));
            self.bundle.imports = imports;
        }
    }

    fn source_info(&mut self, d: &Def<'c, SourceDecl>) -> SourceInfo {
        let mut location = SourceLocation::Sql { query: String::new() };
        let mut keys = Vec::new();
        let mut timeout_ms = 500;
        let mut cache_ms = None;
        for c in &d.node.clauses {
            match &c.kind {
                SourceClauseKind::Csv(p) => {
                    let contents = self.loader.load(&p.value).unwrap_or_default();
                    location = SourceLocation::Csv { path: p.value.clone(), contents };
                }
                SourceClauseKind::Sqlite { path, table } => {
                    location = SourceLocation::Sqlite { path: path.value.clone(), table: table.value.clone() }
                }
                SourceClauseKind::Http(u) => location = SourceLocation::Http { url: u.value.clone() },
                SourceClauseKind::Sql(q) => location = SourceLocation::Sql { query: q.value.clone() },
                SourceClauseKind::Key(k) => keys.extend(k.iter().map(|i| i.name.clone())),
                SourceClauseKind::Timeout(t) => timeout_ms = t.millis,
                SourceClauseKind::Cache(t) => cache_ms = Some(t.millis),
            }
        }
        let record = self.records.get(&d.node.record.name).copied().unwrap_or(RecordId(0));
        SourceInfo { name: self.qualified(&d.module, &d.name.name), record, location, keys, timeout_ms, cache_ms }
    }

    fn generate(&mut self) {
        let syms = self.symbols;
        for (m, s) in syms.iter().enumerate() {
            for d in self.own(m, s.queues.values()) {
                self.queue(m, d);
            }
            for d in self.own(m, s.flows.values()) {
                self.flow(m, d);
            }
            for d in self.own(m, s.scripts.values()) {
                self.script(m, d);
            }
            for d in self.own(m, s.surveys.values()) {
                self.survey(m, d);
            }
            for d in self.own(m, s.retries.values()) {
                self.retry(m, d);
            }
            for d in &s.replies {
                self.reply(m, d);
            }
            for d in &s.scorecards {
                let questions = d.node.questions.iter().map(|q| QuestionInfo {
                    name: q.name.name.clone(),
                    text: q.text.value.clone(),
                    weight: q.weight.value as u32,
                });
                self.bundle
                    .scorecards
                    .push(ScorecardInfo { name: d.name.name.clone(), questions: questions.collect() });
            }
            if m == 0 {
                for e in &s.entries {
                    let Some(channel) = Channel::parse(&e.node.channel.name) else { continue };
                    let address = match &e.node.address.kind {
                        ExprKind::Phone(p) => p.clone(),
                        ExprKind::Text(parts) => text_literal(parts).to_ascii_lowercase(),
                        _ => String::new(),
                    };
                    let Some(flow) = self.lookup_id(0, &e.node.flow.name, |s| &s.flows, |g| &g.flows) else { continue };
                    self.bundle.entries.push(EntryInfo { channel, address, flow });
                }
            }
        }
        for (m, id, file, f) in std::mem::take(&mut self.pending_fns) {
            let mut b = FuncBuilder::new(m, file);
            let mut ignored = Vec::new();
            for p in &f.params {
                let slot = b.declare(&p.name.name);
                let record = match self.symbols[m].resolve_type(file, &p.ty, &mut ignored).unwrap_optional() {
                    Type::Record(r) => self.records.get(&**r).copied(),
                    _ => None,
                };
                b.know_record(slot, record);
            }
            let ret = self.symbols[m].resolve_type(file, &f.ret, &mut ignored);
            self.expr(&mut b, &f.body, Some(&ret));
            b.emit(Instr::Return, f.body.span);
            self.finish(id, b, f.params.len() as u16);
        }
    }

    fn lookup_id<T: 'c, I: Copy>(
        &self,
        m: usize,
        name: &str,
        table: impl for<'s> Fn(&'s Symbols<'c>) -> &'s HashMap<&'c str, Def<'c, T>>,
        ids: impl for<'s> Fn(&'s Gen<'c>) -> &'s HashMap<Key, I>,
    ) -> Option<I> {
        let d = table(&self.symbols[m]).get(name)?;
        ids(self).get(&key(d)).copied()
    }

    fn queue_id(&self, m: usize, name: &str) -> QueueId {
        self.lookup_id(m, name, |s| &s.queues, |g| &g.queues).unwrap_or(QueueId(0))
    }

    fn finish(&mut self, id: FuncId, b: FuncBuilder, params: u16) {
        let f = &mut self.bundle.functions[id.index()];
        f.params = params;
        f.locals = b.max_locals.max(params);
        f.code = b.code;
        f.spans = b.spans;
    }

    fn queue(&mut self, m: usize, d: &Def<'c, QueueDecl>) {
        let id = self.queues[&key(d)];
        let mut info = self.bundle.queues[id.index()].clone();
        for c in &d.node.clauses {
            match &c.kind {
                QueueClauseKind::Skills(s) => info.skills.extend(s.iter().map(|i| i.name.clone())),
                QueueClauseKind::Target { channel, percent, within } => {
                    if let Some(ch) = Channel::parse(&channel.name) {
                        info.targets.push((ch, percent.value / 100.0, within.millis));
                    }
                }
                QueueClauseKind::Priority(entries) => {
                    for (ch, n) in entries {
                        if let Some(ch) = Channel::parse(&ch.name) {
                            info.priorities.push((ch, n.value as i32));
                        }
                    }
                }
                QueueClauseKind::WhileWaiting(lines) => {
                    for line in lines {
                        let action = match &line.action.kind {
                            StmtKind::Say(text) => {
                                let f = self.new_func(format!("{} while waiting", info.name));
                                let mut b = FuncBuilder::new(m, d.file);
                                b.waiting = true;
                                self.expr(&mut b, text, Some(&Type::Text));
                                b.emit(Instr::Return, line.span);
                                self.finish(f, b, 0);
                                WaitingAction::Say(f)
                            }
                            StmtKind::OfferCallback { keep_place } => {
                                WaitingAction::OfferCallback { keep_place: *keep_place }
                            }
                            _ => continue,
                        };
                        info.waiting.push(WaitingLine { repeat: line.repeat, delay_ms: line.delay.millis, action });
                    }
                }
                QueueClauseKind::Overflow { after, to } => {
                    info.overflow = Some((after.millis, self.queue_id(m, &to.name)))
                }
            }
        }
        self.bundle.queues[id.index()] = info;
    }

    fn flow(&mut self, m: usize, d: &Def<'c, FlowDecl>) {
        let name = self.qualified(&d.module, &d.name.name);
        let channels: ChannelSet = d.node.channels.iter().filter_map(|c| Channel::parse(&c.name)).collect();
        let body = self.new_func(format!("flow {name}"));
        let mut b = FuncBuilder::new(m, d.file);
        self.stmts(&mut b, &d.node.body.stmts);
        b.emit(Instr::End, d.name.span);
        self.finish(body, b, 0);
        let on_error = d.node.on_error.as_ref().map(|block| {
            let f = self.new_func(format!("flow {name} on error"));
            let mut b = FuncBuilder::new(m, d.file);
            self.stmts(&mut b, &block.stmts);
            b.emit(Instr::End, block.span);
            self.finish(f, b, 0);
            f
        });
        self.bundle.flows.push(FlowInfo { name, channels, body, on_error, globals: 0 });
    }

    fn script(&mut self, m: usize, d: &Def<'c, ScriptDecl>) {
        let name = self.qualified(&d.module, &d.name.name);
        let queue = d.node.queue.as_ref().map(|q| self.queue_id(m, &q.name));
        let prelude = self.new_func(format!("script {name}"));
        let step_ids: Vec<(String, FuncId)> = d
            .node
            .steps
            .iter()
            .map(|s| (s.name.name.clone(), self.new_func(format!("script {name} step {}", s.name.name))))
            .collect();
        // The prelude's names live in globals so every step sees them.
        let mut globals: Vec<String> = Vec::new();
        let mut b = FuncBuilder::new(m, d.file);
        b.steps = step_ids.clone();
        b.globals_by_let = true;
        self.stmts(&mut b, &d.node.prelude);
        globals.extend(b.globals.iter().cloned());
        if let Some((_, first)) = step_ids.first() {
            b.emit(Instr::Goto { func: *first }, d.name.span);
        } else {
            b.emit(Instr::End, d.name.span);
        }
        self.finish(prelude, b, 0);
        for (step, (_, id)) in d.node.steps.iter().zip(&step_ids) {
            let mut b = FuncBuilder::new(m, d.file);
            b.steps = step_ids.clone();
            b.globals = globals.clone();
            self.stmts(&mut b, &step.body.stmts);
            b.emit(Instr::End, step.span);
            self.finish(*id, b, 0);
        }
        self.bundle.scripts.push(ScriptInfo { name, queue, prelude, steps: step_ids, globals: globals.len() as u16 });
    }

    /// A `reply`: its text as a function of no parameters; the record it is given (its
    /// `with`) in global 0.
    fn reply(&mut self, m: usize, d: &Def<'c, ReplyDecl>) {
        let name = d.name.name.clone();
        let queue = d.node.queue.as_ref().map(|q| self.queue_id(m, &q.name));
        let record = d.node.with.as_ref().and_then(|p| {
            let mut ignored = Vec::new();
            match self.symbols[m].resolve_type(d.file, &p.ty, &mut ignored) {
                Type::Record(r) => self.records.get(&*r).copied(),
                _ => None,
            }
        });
        let globals: Vec<String> = d.node.with.iter().map(|p| p.name.name.clone()).collect();
        let label = match &d.node.queue {
            Some(q) => format!("reply {name} for queue {}", q.name),
            None => format!("reply {name}"),
        };
        let text = self.new_func(label);
        let mut b = FuncBuilder::new(m, d.file);
        b.globals = globals.clone();
        b.sees_agent = true;
        self.expr(&mut b, &d.node.text, Some(&Type::Text));
        b.emit(Instr::Return, d.node.text.span);
        self.finish(text, b, 0);
        self.bundle.replies.push(ReplyInfo { name, queue, record, text, globals: globals.len() as u16 });
    }

    fn survey(&mut self, m: usize, d: &Def<'c, SurveyDecl>) {
        let name = self.qualified(&d.module, &d.name.name);
        let via = match d.node.via.as_ref().map(|v| v.kind) {
            Some(ViaKind::Sms) => SurveyVia::Sms,
            Some(ViaKind::Email) => SurveyVia::Email,
            _ => SurveyVia::SameChannel,
        };
        let body = self.new_func(format!("survey {name}"));
        let mut b = FuncBuilder::new(m, d.file);
        b.in_survey = true;
        self.stmts(&mut b, &d.node.body.stmts);
        b.emit(Instr::End, d.name.span);
        self.finish(body, b, 0);
        self.bundle.surveys.push(SurveyInfo { name, via, body, globals: 0 });
    }

    fn retry(&mut self, m: usize, d: &Def<'c, RetryDecl>) {
        let name = self.qualified(&d.module, &d.name.name);
        let mut ignored = Vec::new();
        let param = self.symbols[m].resolve_type(d.file, &d.node.param.ty, &mut ignored);
        let globals = vec![d.node.param.name.name.clone()];
        let mut info = RetryInfo {
            name: name.clone(),
            param,
            timezone: None,
            quiet: None,
            steps: Vec::new(),
            handlers: Vec::new(),
            globals: 1,
        };
        for c in &d.node.clauses {
            match &c.kind {
                RetryClauseKind::Timezone(e) => {
                    let f = self.new_func(format!("retry {name} timezone"));
                    let mut b = FuncBuilder::new(m, d.file);
                    b.globals = globals.clone();
                    self.expr(&mut b, e, Some(&Type::Text));
                    b.emit(Instr::Return, c.span);
                    self.finish(f, b, 0);
                    info.timezone = Some(f);
                }
                RetryClauseKind::Quiet { from, to } => info.quiet = Some((from.minutes(), to.minutes())),
                RetryClauseKind::Step { when, action } => {
                    let f = self.new_func(format!("retry {name} step {}", info.steps.len() + 1));
                    let mut b = FuncBuilder::new(m, d.file);
                    b.globals = globals.clone();
                    self.stmt(&mut b, action);
                    b.emit(Instr::Return, action.span);
                    self.finish(f, b, 0);
                    let held = match &action.kind {
                        StmtKind::Call { .. } => true,
                        StmtKind::Send { medium, .. } => medium.name == "sms",
                        _ => false,
                    };
                    let when = match when {
                        When::Immediately(_) => StepTime::Immediately,
                        When::At(t) => StepTime::At(t.minutes()),
                        When::After(dur) => StepTime::After(dur.millis),
                    };
                    info.steps.push(RetryStep { when, action: f, held });
                }
                RetryClauseKind::On { event, body } => {
                    let f = self.new_func(format!("retry {name} on {}", event.name));
                    let mut b = FuncBuilder::new(m, d.file);
                    b.globals = globals.clone();
                    self.stmts(&mut b, &body.stmts);
                    b.emit(Instr::Return, body.span);
                    self.finish(f, b, 0);
                    info.handlers.push((event.name.clone(), f));
                }
            }
        }
        self.bundle.retries.push(info);
    }

    fn stmts(&mut self, b: &mut FuncBuilder, stmts: &[Stmt]) {
        let mark = b.scope();
        for s in stmts {
            self.stmt(b, s);
        }
        b.unscope(mark);
    }

    fn block(&mut self, b: &mut FuncBuilder, block: &Block) {
        self.stmts(b, &block.stmts);
    }

    fn stmt(&mut self, b: &mut FuncBuilder, s: &Stmt) {
        let span = s.span;
        match &s.kind {
            StmtKind::Let { name, value } => {
                self.expr(b, value, None);
                let record = match &value.kind {
                    ExprKind::Name(n) if b.has(&n.name) => b.record_of(&n.name),
                    _ => None,
                };
                let slot = b.store_new(&name.name, span);
                b.know_record(slot, record);
            }
            StmtKind::Lookup { name, source, key, else_block } => {
                self.expr(b, key, None);
                let source =
                    self.lookup_id(b.module, &source.name, |s| &s.sources, |g| &g.sources).unwrap_or(SourceId(0));
                b.emit(Instr::Lookup { source }, span);
                let slot = b.store_new(&name.name, span);
                b.know_record(slot, self.bundle.sources.get(source.index()).map(|s| s.record));
                if let Some(block) = else_block {
                    b.load(&name.name, span);
                    let skip = b.jump_placeholder(Instr::JumpIfSome { to: 0 }, span);
                    self.block(b, block);
                    b.patch(skip);
                }
            }
            StmtKind::Assign { target, value } => {
                self.expr(b, value, None);
                match &target.kind {
                    ExprKind::Name(n) => b.store(&n.name, span),
                    ExprKind::Field { base, name, .. } => {
                        if let ExprKind::Field { name: attrs, .. } = &base.kind {
                            if attrs.name == "attributes" {
                                let c = self.text_const(&name.name);
                                b.emit(Instr::SetAttribute { name: c }, span);
                                return;
                            }
                        }
                        b.emit(Instr::SetLanguage, span);
                    }
                    _ => {
                        b.emit(Instr::Pop, span);
                    }
                }
            }
            StmtKind::Say(text) => {
                self.expr(b, text, Some(&Type::Text));
                b.emit(Instr::Say, span);
            }
            StmtKind::Ask(ask) => self.ask(b, ask, span),
            StmtKind::Menu(menu) => self.menu(b, menu, span),
            StmtKind::If { branches, else_block } => {
                let mut ends = Vec::new();
                for (cond, block) in branches {
                    self.expr(b, cond, Some(&Type::Bool));
                    let next = b.jump_placeholder(Instr::JumpIfFalse { to: 0 }, cond.span);
                    self.block(b, block);
                    ends.push(b.jump_placeholder(Instr::Jump { to: 0 }, span));
                    b.patch(next);
                }
                if let Some(block) = else_block {
                    self.block(b, block);
                }
                for e in ends {
                    b.patch(e);
                }
            }
            StmtKind::Match { scrutinee, arms } => {
                self.expr(b, scrutinee, None);
                let mark = b.scope();
                let tmp = b.store_new("#match", span);
                let channel = Type::Channel;
                let pattern_hint = is_contact_channel(scrutinee).then_some(&channel);
                let mut ends = Vec::new();
                for arm in arms {
                    let mut to_body = Vec::new();
                    for p in &arm.patterns {
                        b.emit(Instr::Load { slot: tmp }, p.span);
                        self.expr(b, p, pattern_hint);
                        b.emit(Instr::Binary { op: BinaryOp::Eq }, p.span);
                        to_body.push(b.jump_placeholder(Instr::JumpIfTrue { to: 0 }, p.span));
                    }
                    let next = if arm.patterns.is_empty() {
                        None
                    } else {
                        Some(b.jump_placeholder(Instr::Jump { to: 0 }, arm.span))
                    };
                    for j in to_body {
                        b.patch(j);
                    }
                    self.block(b, &arm.body);
                    ends.push(b.jump_placeholder(Instr::Jump { to: 0 }, arm.span));
                    if let Some(n) = next {
                        b.patch(n);
                    }
                }
                for e in ends {
                    b.patch(e);
                }
                b.unscope(mark);
            }
            StmtKind::Waypoint(name) => {
                let c = self.text_const(&name.name);
                b.emit(Instr::Waypoint { name: c }, span);
            }
            StmtKind::Queue(q) => {
                let queue = self.queue_id(b.module, &q.queue.name);
                let prefer_ms = q.prefer.as_ref().map(|(e, d)| {
                    self.expr(b, e, None);
                    d.millis
                });
                let require = q.require.iter().map(|s| self.text_const(&s.name)).collect();
                let priority = q.priority.map_or(0, |p| p.value as i32);
                b.emit(Instr::Queue { queue, priority, prefer_ms, require, vip: q.vip }, span);
            }
            StmtKind::Transfer(to) => {
                self.expr(b, to, None);
                b.emit(Instr::Transfer, span);
            }
            StmtKind::OfferCallback { keep_place } => b.emit(Instr::OfferCallback { keep_place: *keep_place }, span),
            StmtKind::CollectPayment(amount) => {
                self.expr(b, amount, None);
                b.emit(Instr::CollectPayment, span);
            }
            StmtKind::Send { medium, to, text } => {
                self.expr(b, to, (medium.name == "email").then_some(&Type::Email));
                self.expr(b, text, Some(&Type::Text));
                let medium = if medium.name == "sms" { Medium::Sms } else { Medium::Email };
                b.emit(Instr::Send { medium }, span);
            }
            StmtKind::StartRetry { retry, arg } => {
                let m = b.module;
                let d = self.symbols[m].retries.get(retry.name.as_str());
                let param = d.map(|d| {
                    let mut ignored = Vec::new();
                    self.symbols[m].resolve_type(d.file, &d.node.param.ty, &mut ignored)
                });
                self.expr(b, arg, param.as_ref());
                let retry = self.lookup_id(m, &retry.name, |s| &s.retries, |g| &g.retries).unwrap_or(RetryId(0));
                b.emit(Instr::StartRetry { retry }, span);
            }
            StmtKind::Survey(name) => {
                let survey =
                    self.lookup_id(b.module, &name.name, |s| &s.surveys, |g| &g.surveys).unwrap_or(SurveyId(0));
                b.emit(Instr::Survey { survey }, span);
            }
            StmtKind::End => b.emit(Instr::End, span),
            StmtKind::Note(text) => {
                self.expr(b, text, Some(&Type::Text));
                b.emit(Instr::Note, span);
            }
            StmtKind::Choose { prompt, options } => {
                self.expr(b, prompt, Some(&Type::Text));
                let choice = ChoiceId(self.bundle.choices.len() as u32);
                self.bundle
                    .choices
                    .push(ChoiceInfo { options: options.iter().map(|o| o.label.value.clone()).collect() });
                b.emit(Instr::Choose { choice }, span);
                let switch = b.code.len();
                b.emit(Instr::Switch { targets: Vec::new() }, span);
                let mut targets = Vec::new();
                for o in options {
                    targets.push(b.code.len() as u32);
                    let func = b.step(&o.step.name);
                    b.emit(Instr::Goto { func }, o.span);
                }
                b.code[switch] = Instr::Switch { targets };
            }
            StmtKind::Goto(step) => {
                let func = b.step(&step.name);
                b.emit(Instr::Goto { func }, span);
            }
            StmtKind::Outcome(name) => {
                let c = self.text_const(&name.name);
                b.emit(Instr::Outcome { name: c }, span);
            }
            StmtKind::Call { to, queue, script } => {
                self.expr(b, to, None);
                let queue = self.queue_id(b.module, &queue.name);
                let script =
                    script.as_ref().and_then(|s| self.lookup_id(b.module, &s.name, |s| &s.scripts, |g| &g.scripts));
                b.emit(Instr::CallOut { queue, script }, span);
            }
            StmtKind::Again { delay, at, max } => b.emit(
                Instr::Again { delay_ms: delay.millis, at_minutes: at.map(|t| t.minutes()), max: max.value as u32 },
                span,
            ),
            StmtKind::Stop => b.emit(Instr::Stop, span),
        }
    }

    fn ask(&mut self, b: &mut FuncBuilder, ask: &Ask, span: Span) {
        self.expr(b, &ask.prompt, Some(&Type::Text));
        let kind = match &ask.ty.kind {
            AskTypeKind::Digits(n) => AnswerKind::Digits(n.value as u32),
            AskTypeKind::YesNo => AnswerKind::YesNo,
            AskTypeKind::Range(lo, hi) => AnswerKind::Range(lo.value, hi.value),
            AskTypeKind::Named(t) => {
                let mut ignored = Vec::new();
                match self.symbols[b.module].resolve_type(b.file, t, &mut ignored) {
                    Type::Number => AnswerKind::Number,
                    Type::Date => AnswerKind::Date,
                    Type::Money => AnswerKind::Money,
                    Type::Phone => AnswerKind::Phone,
                    Type::Email => AnswerKind::Email,
                    Type::Time => AnswerKind::Time,
                    Type::Bool => AnswerKind::YesNo,
                    Type::Enum(e) => AnswerKind::Enum(
                        self.symbols[b.module]
                            .enums
                            .get(&*e)
                            .map(|d| d.node.variants.iter().map(|v| v.name.clone()).collect())
                            .unwrap_or_default(),
                    ),
                    _ => AnswerKind::Text,
                }
            }
        };
        let id = AskId(self.bundle.asks.len() as u32);
        self.bundle.asks.push(AskInfo {
            name: ask.name.name.clone(),
            kind,
            timeout_ms: ask.timeout.map(|t| t.millis),
            retries: ask.retries.map(|r| r.value as u32),
        });
        b.emit(Instr::Ask { ask: id }, span);
        b.emit(Instr::Dup, span);
        let ok = b.jump_placeholder(Instr::JumpIfSome { to: 0 }, span);
        b.emit(Instr::Pop, span);
        match &ask.else_block {
            Some(block) => {
                self.block(b, block);
                let none = self.constant(Value::None);
                b.emit(Instr::Const { value: none }, span);
            }
            None if b.in_survey || !b.steps.is_empty() => b.emit(Instr::End, span),
            None => {
                let reason = self.text_const(&format!("no answer to `{}`", ask.name.name));
                b.emit(Instr::Fail { reason }, span);
            }
        }
        b.patch(ok);
        b.store_new(&ask.name.name, span);
    }

    fn menu(&mut self, b: &mut FuncBuilder, menu: &Menu, span: Span) {
        self.expr(b, &menu.prompt, Some(&Type::Text));
        let id = MenuId(self.bundle.menus.len() as u32);
        self.bundle.menus.push(MenuInfo {
            options: menu
                .options
                .iter()
                .map(|o| (o.key.value.clone(), o.label.as_ref().map(|l| l.value.clone())))
                .collect(),
            timeout_ms: menu.timeout.as_ref().map_or(10_000, |t| t.timeout.millis),
            retries: menu.timeout.as_ref().and_then(|t| t.retries).map_or(2, |r| r.value as u32),
            has_timeout: menu.timeout.is_some(),
        });
        b.emit(Instr::Menu { menu: id }, span);
        let switch = b.code.len();
        b.emit(Instr::Switch { targets: Vec::new() }, span);
        let mut targets = Vec::new();
        let mut ends = Vec::new();
        for o in &menu.options {
            targets.push(b.code.len() as u32);
            self.block(b, &o.body);
            ends.push(b.jump_placeholder(Instr::Jump { to: 0 }, o.span));
        }
        targets.push(b.code.len() as u32);
        match &menu.timeout {
            Some(t) => self.block(b, &t.body),
            None => {
                let reason = self.text_const("no choice was made in the menu");
                b.emit(Instr::Fail { reason }, span);
            }
        }
        for e in ends {
            b.patch(e);
        }
        b.code[switch] = Instr::Switch { targets };
    }

    fn expr(&mut self, b: &mut FuncBuilder, e: &Expr, hint: Option<&Type>) {
        let span = e.span;
        match &e.kind {
            ExprKind::Number(n) => self.push(b, Value::Number(*n), span),
            ExprKind::Percent(p) => self.push(b, Value::Number(p / 100.0), span),
            ExprKind::Bool(v) => self.push(b, Value::Bool(*v), span),
            ExprKind::Duration(ms) => self.push(b, Value::Duration(*ms), span),
            ExprKind::Time { hour, minute } => self.push(b, Value::Time(hour * 60 + minute), span),
            ExprKind::Date { year, month, day } => {
                let date = jiff::civil::Date::new(*year as i16, *month as i8, *day as i8).unwrap_or_default();
                self.push(b, Value::Date(date), span)
            }
            ExprKind::Money { symbol, minor } => {
                let currency = Currency::from_symbol(*symbol).or(self.bundle.currency).unwrap_or(Currency::GBP);
                self.push(b, Value::Money(Money { minor: *minor, currency }), span)
            }
            ExprKind::Phone(p) => self.push(b, Value::Phone(Arc::from(p.as_str())), span),
            ExprKind::Text(parts) => {
                if parts.iter().all(|p| matches!(p, TextPart::Lit(_))) {
                    let s = text_literal(parts);
                    let v = if hint == Some(&Type::Email) {
                        Value::Email(Arc::from(s.to_ascii_lowercase()))
                    } else {
                        Value::Text(Arc::from(s))
                    };
                    self.push(b, v, span);
                } else {
                    for p in parts {
                        match p {
                            TextPart::Lit(s) => self.push(b, Value::Text(Arc::from(s.as_str())), span),
                            TextPart::Expr(inner) => self.expr(b, inner, None),
                        }
                    }
                    b.emit(Instr::Concat { parts: parts.len() as u16 }, span);
                }
            }
            ExprKind::Regex(r) => self.push(b, Value::Text(Arc::from(r.as_str())), span),
            ExprKind::List(items) => {
                let inner = match hint.map(Type::unwrap_optional) {
                    Some(Type::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                for i in items {
                    self.expr(b, i, inner.as_ref());
                }
                b.emit(Instr::MakeList { len: items.len() as u16 }, span);
            }
            // Never met: a project with a syntax error does not compile.
            ExprKind::None | ExprKind::Error => self.push(b, Value::None, span),
            ExprKind::Name(n) => self.name(b, n, hint, span),
            ExprKind::Field { base, name, optional } => {
                if let ExprKind::Name(bn) = &base.kind {
                    if !b.has(&bn.name) {
                        let builtin = match bn.name.as_str() {
                            "contact" => contact_field(&name.name).map(|field| Instr::Contact { field }),
                            "agent" if !b.steps.is_empty() || b.sees_agent => {
                                agent_field(&name.name).map(|field| Instr::AgentField { field })
                            }
                            "queue" if b.waiting => match name.name.as_str() {
                                "position" => Some(Instr::QueueField { field: QueueField::Position }),
                                _ => Some(Instr::QueueField { field: QueueField::Ewt }),
                            },
                            _ => None,
                        };
                        if let Some(i) = builtin {
                            b.emit(i, span);
                            return;
                        }
                    }
                }
                if let ExprKind::Field { base: inner, name: attrs, .. } = &base.kind {
                    if attrs.name == "attributes"
                        && matches!(&inner.kind, ExprKind::Name(c) if c.name == "contact" && !b.has("contact"))
                    {
                        let c = self.text_const(&name.name);
                        b.emit(Instr::Attribute { name: c }, span);
                        return;
                    }
                }
                self.expr(b, base, None);
                let c = self.text_const(&name.name);
                // Where the field stands, when the base is a local whose record type is known.
                let index = match &base.kind {
                    ExprKind::Name(n) => b.record_of(&n.name).and_then(|r| {
                        let fields = &self.bundle.records.get(r.index())?.fields;
                        fields.iter().position(|(f, _)| *f == name.name).and_then(|i| u16::try_from(i).ok())
                    }),
                    _ => None,
                };
                b.emit(
                    if *optional { Instr::OptField { name: c, index } } else { Instr::Field { name: c, index } },
                    span,
                );
            }
            ExprKind::Call { callee, args } => self.call(b, callee, args, span),
            ExprKind::Record(entries) => self.record(b, entries, hint, span),
            ExprKind::Paren(inner) => self.expr(b, inner, hint),
            ExprKind::Unary { op, expr } => {
                self.expr(b, expr, None);
                b.emit(if *op == UnaryOp::Not { Instr::Not } else { Instr::Neg }, span);
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinaryOp::And | BinaryOp::Or => {
                    self.expr(b, lhs, None);
                    let short = b.jump_placeholder(
                        if *op == BinaryOp::And { Instr::JumpIfFalse { to: 0 } } else { Instr::JumpIfTrue { to: 0 } },
                        span,
                    );
                    self.expr(b, rhs, None);
                    let end = b.jump_placeholder(Instr::Jump { to: 0 }, span);
                    b.patch(short);
                    self.push(b, Value::Bool(*op == BinaryOp::Or), span);
                    b.patch(end);
                }
                BinaryOp::Coalesce => {
                    self.expr(b, lhs, hint);
                    b.emit(Instr::Dup, span);
                    let end = b.jump_placeholder(Instr::JumpIfSome { to: 0 }, span);
                    b.emit(Instr::Pop, span);
                    self.expr(b, rhs, hint);
                    b.patch(end);
                }
                BinaryOp::Matches => {
                    self.expr(b, lhs, None);
                    let pattern = match &rhs.kind {
                        ExprKind::Regex(r) => r.clone(),
                        _ => String::new(),
                    };
                    let regex = self.text_const(&pattern);
                    b.emit(Instr::Matches { regex }, span);
                }
                _ => {
                    // `contact.channel == email` compares channels, whatever enums say.
                    let channel = Type::Channel;
                    let (lh, rh) = match (is_contact_channel(lhs), is_contact_channel(rhs)) {
                        (true, _) => (None, Some(&channel)),
                        (_, true) => (Some(&channel), None),
                        _ => (None, None),
                    };
                    self.expr(b, lhs, lh);
                    self.expr(b, rhs, rh);
                    b.emit(Instr::Binary { op: *op }, span);
                }
            },
        }
    }

    fn push(&mut self, b: &mut FuncBuilder, v: Value, span: Span) {
        let value = self.constant(v);
        b.emit(Instr::Const { value }, span);
    }

    fn name(&mut self, b: &mut FuncBuilder, n: &Ident, hint: Option<&Type>, span: Span) {
        if b.has(&n.name) {
            b.load(&n.name, span);
            return;
        }
        if n.name == "now" {
            b.emit(Instr::Now, span);
            return;
        }
        let syms = &self.symbols[b.module];
        let owner = syms.enums.values().find(|d| d.node.variants.iter().any(|v| v.name == n.name));
        let channel = Channel::parse(&n.name);
        if let (Some(Type::Channel), Some(ch)) = (hint.map(Type::unwrap_optional), channel) {
            self.push(b, Value::Channel(ch), span);
        } else if owner.is_some() {
            self.push(b, Value::Enum(Arc::from(n.name.as_str())), span);
        } else if let Some(ch) = Channel::parse(&n.name) {
            self.push(b, Value::Channel(ch), span);
        } else {
            self.push(b, Value::None, span);
        }
    }

    fn call(&mut self, b: &mut FuncBuilder, callee: &Ident, args: &[Expr], span: Span) {
        let m = b.module;
        match self.symbols[m].callables.get(callee.name.as_str()) {
            Some(Callable::Fn(d)) => {
                let mut ignored = Vec::new();
                let params: Vec<Type> =
                    d.node.params.iter().map(|p| self.symbols[m].resolve_type(d.file, &p.ty, &mut ignored)).collect();
                for (a, t) in args.iter().zip(&params) {
                    self.expr(b, a, Some(t));
                }
                let func = self.fns[&key(d)];
                b.emit(Instr::Call { func, args: args.len() as u16 }, span);
            }
            Some(Callable::Extern(d)) => {
                let mut ignored = Vec::new();
                let params: Vec<Type> =
                    d.node.params.iter().map(|p| self.symbols[m].resolve_type(d.file, &p.ty, &mut ignored)).collect();
                for (a, t) in args.iter().zip(&params) {
                    self.expr(b, a, Some(t));
                }
                let func = self.externs[&key(d)];
                b.emit(Instr::Extern { func, args: args.len() as u16 }, span);
            }
            None if callee.name == "open" => {
                let hours = match args.first().map(|a| &a.kind) {
                    Some(ExprKind::Name(h)) => self.lookup_id(m, &h.name, |s| &s.hours, |g| &g.hours),
                    _ => None,
                };
                b.emit(Instr::Builtin { builtin: Builtin::Open(hours.unwrap_or(HoursId(0))), args: 0 }, span);
            }
            None => {
                for a in args {
                    self.expr(b, a, None);
                }
                let builtin = Builtin::by_name(&callee.name).unwrap_or(Builtin::Trim);
                b.emit(Instr::Builtin { builtin, args: args.len() as u16 }, span);
            }
        }
    }

    fn record(&mut self, b: &mut FuncBuilder, entries: &[(Ident, Expr)], hint: Option<&Type>, span: Span) {
        match hint.map(Type::unwrap_optional) {
            Some(Type::Record(r)) => {
                let Some(&record) = self.records.get(&**r) else { return self.push(b, Value::None, span) };
                let fields = self.bundle.records[record.index()].fields.clone();
                for (name, t) in &fields {
                    match entries.iter().find(|(k, _)| k.name == *name) {
                        Some((_, v)) => self.expr(b, v, Some(t)),
                        None => self.push(b, Value::None, span),
                    }
                }
                b.emit(Instr::MakeRecord { record }, span);
            }
            _ => {
                // A text per language.
                let languages: Vec<Value> =
                    entries.iter().map(|(k, _)| Value::Text(Arc::from(k.name.as_str()))).collect();
                for (_, v) in entries {
                    self.expr(b, v, Some(&Type::Text));
                }
                let languages = self.constant(Value::List(Arc::from(languages)));
                b.emit(Instr::PerLanguage { languages }, span);
            }
        }
    }
}

fn is_contact_channel(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field { base, name, .. } => {
            name.name == "channel" && matches!(&base.kind, ExprKind::Name(c) if c.name == "contact")
        }
        ExprKind::Paren(inner) => is_contact_channel(inner),
        _ => false,
    }
}

fn callable_module<'a>(c: &'a Callable<'_>) -> &'a str {
    match c {
        Callable::Fn(d) => &d.module,
        Callable::Extern(d) => &d.module,
    }
}

fn text_literal(parts: &[TextPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            TextPart::Lit(s) => s.as_str(),
            TextPart::Expr(_) => "",
        })
        .collect()
}

fn contact_field(name: &str) -> Option<ContactField> {
    Some(match name {
        "id" => ContactField::Id,
        "channel" => ContactField::Channel,
        "from" => ContactField::From,
        "to" => ContactField::To,
        "text" => ContactField::Text,
        "subject" => ContactField::Subject,
        "language" => ContactField::Language,
        "country" => ContactField::Country,
        "started_at" => ContactField::StartedAt,
        _ => return None,
    })
}

fn agent_field(name: &str) -> Option<AgentField> {
    Some(match name {
        "id" => AgentField::Id,
        "name" => AgentField::Name,
        "skills" => AgentField::Skills,
        "languages" => AgentField::Languages,
        _ => return None,
    })
}

fn hours_info(name: String, h: &HoursDecl) -> HoursInfo {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut info = HoursInfo { name, zone: "UTC".to_string(), weekly: Default::default(), closed: Vec::new() };
    for c in &h.clauses {
        match &c.kind {
            HoursClauseKind::Timezone(z) => info.zone = z.value.clone(),
            HoursClauseKind::Closed(dates) => {
                for d in dates {
                    if let Ok(date) = jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8) {
                        info.closed.push(date);
                    }
                }
            }
            HoursClauseKind::Open { days, ranges } => {
                for range in days {
                    let from = DAYS.iter().position(|d| *d == range.from.name).unwrap_or(0);
                    let to = range.to.as_ref().and_then(|t| DAYS.iter().position(|d| *d == t.name)).unwrap_or(from);
                    let mut day = from;
                    loop {
                        for (a, b) in ranges {
                            info.weekly[day].push((a.minutes(), b.minutes()));
                        }
                        if day == to {
                            break;
                        }
                        day = (day + 1) % 7;
                    }
                }
            }
        }
    }
    info
}

/// Builds one function: code, spans, and the local slots of its scopes.
struct FuncBuilder {
    module: usize,
    file: FileId,
    code: Vec<Instr>,
    spans: Vec<SourceSpan>,
    locals: Vec<(String, Slot)>,
    /// By slot: the record type a local holds, when codegen knows it.
    records: Vec<Option<RecordId>>,
    max_locals: u16,
    /// Names held in globals (a script's prelude lets, a retry's subject).
    globals: Vec<String>,
    /// In a script prelude: `let` binds a global.
    globals_by_let: bool,
    /// The steps of the script this function belongs to.
    steps: Vec<(String, FuncId)>,
    waiting: bool,
    in_survey: bool,
    /// A reply's text: `agent` is the agent it is rendered for, as in a script.
    sees_agent: bool,
}

impl FuncBuilder {
    fn new(module: usize, file: FileId) -> FuncBuilder {
        FuncBuilder {
            module,
            file,
            code: Vec::new(),
            spans: Vec::new(),
            locals: Vec::new(),
            records: Vec::new(),
            max_locals: 0,
            globals: Vec::new(),
            globals_by_let: false,
            steps: Vec::new(),
            waiting: false,
            in_survey: false,
            sees_agent: false,
        }
    }

    fn emit(&mut self, i: Instr, span: Span) {
        self.code.push(i);
        self.spans.push(SourceSpan { file: self.file, span });
    }

    fn jump_placeholder(&mut self, i: Instr, span: Span) -> usize {
        self.emit(i, span);
        self.code.len() - 1
    }

    /// Points the jump at `at` to the next instruction.
    fn patch(&mut self, at: usize) {
        let here = self.code.len() as u32;
        match &mut self.code[at] {
            Instr::Jump { to } | Instr::JumpIfFalse { to } | Instr::JumpIfTrue { to } | Instr::JumpIfSome { to } => {
                *to = here
            }
            _ => {}
        }
    }

    fn scope(&self) -> usize {
        self.locals.len()
    }

    fn unscope(&mut self, mark: usize) {
        self.locals.truncate(mark);
    }

    fn declare(&mut self, name: &str) -> Slot {
        let slot = Slot(self.locals.len() as u32);
        self.locals.push((name.to_string(), slot));
        if self.records.len() <= slot.index() {
            self.records.resize(slot.index() + 1, None);
        }
        self.records[slot.index()] = None;
        self.max_locals = self.max_locals.max(self.locals.len() as u16);
        slot
    }

    /// Records that the local in `slot` holds a record of type `record` (or none).
    fn know_record(&mut self, slot: Slot, record: Option<RecordId>) {
        if let Some(known) = self.records.get_mut(slot.index()) {
            *known = record;
        }
    }

    /// The record type of the local `name`, when codegen knows it.
    fn record_of(&self, name: &str) -> Option<RecordId> {
        let (_, slot) = self.locals.iter().rev().find(|(n, _)| n == name)?;
        self.records.get(slot.index()).copied().flatten()
    }

    fn has(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name) || self.globals.iter().any(|g| g == name)
    }

    fn store_new(&mut self, name: &str, span: Span) -> Slot {
        if self.globals_by_let {
            let g = match self.globals.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    self.globals.push(name.to_string());
                    self.globals.len() - 1
                }
            };
            self.emit(Instr::StoreGlobal { global: Global(g as u32) }, span);
            return Slot(u32::MAX);
        }
        let slot = self.declare(name);
        self.emit(Instr::Store { slot }, span);
        slot
    }

    fn store(&mut self, name: &str, span: Span) {
        if let Some((_, slot)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            let slot = *slot;
            self.emit(Instr::Store { slot }, span);
        } else if let Some(g) = self.globals.iter().position(|n| n == name) {
            self.emit(Instr::StoreGlobal { global: Global(g as u32) }, span);
        }
    }

    fn load(&mut self, name: &str, span: Span) {
        if let Some((_, slot)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            let slot = *slot;
            self.emit(Instr::Load { slot }, span);
        } else if let Some(g) = self.globals.iter().position(|n| n == name) {
            self.emit(Instr::LoadGlobal { global: Global(g as u32) }, span);
        }
    }

    fn step(&self, name: &str) -> FuncId {
        self.steps.iter().find(|(n, _)| n == name).map_or(FuncId(0), |(_, f)| *f)
    }
}
