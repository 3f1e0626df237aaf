//! The `reply` templates of a contact's bundle, rendered for that contact: what an agent's
//! composer suggests on chat, SMS, email and social.
//!
//! A reply's text is a function of no parameters that the VM runs as it runs a `say`
//! text, with the contact as it stands, the agent it is connected to (`agent`), and, in
//! global 0, the record its `with` names. It reads nothing else and changes nothing: a
//! rendering is a function of the state, the world and the records given.

use crate::ids::ContactId;
use crate::state::State;
use crate::world::World;
use std::sync::Arc;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_bytecode::types::Channel;
use switchboard_bytecode::value::{Record, Value};
use switchboard_vm::{Host, Resume, Step, Vm};

/// How many instructions one reply may run: its text is an expression, so a sound bundle
/// needs far fewer.
const FUEL: u32 = 100_000;

/// One reply, rendered: its name and its text, or why it could not be made.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedReply {
    pub name: String,
    pub text: Result<String, String>,
}

/// The replies offered for `contact` in `queue` (its name in the contact's bundle; none:
/// the contact waits in none, and only replies for every queue are offered), by `agent`.
/// `found` holds the records the contact's flow looked up (the last of each record type);
/// a reply `with` a record is offered only when one of its type is among them. A reply for
/// the queue, when it is offered, takes the place of a reply of the same name for every
/// queue. Voice contacts
/// have no composer, so no replies. In declaration order.
pub fn replies(
    state: &State,
    world: &World,
    contact: ContactId,
    queue: Option<&str>,
    agent: Option<&str>,
    found: &[Record],
) -> Vec<RenderedReply> {
    let Some(view) = state.contact(contact) else { return Vec::new() };
    if view.contact.channel == Channel::Voice {
        return Vec::new();
    }
    let Some(deployed) = world.get(&view.bundle) else { return Vec::new() };
    let prepared = &deployed.prepared;
    let bundle: &Bundle = &prepared.bundle;
    let queue = queue.and_then(|q| bundle.queue(q));
    let host = Host::new(&prepared.tables);
    let agent = agent.and_then(|a| state.agent(a)).map(|a| Box::new(a.clone()));
    // The replies this contact can have: for its queue or every queue, and given a record
    // of their type when they ask for one.
    let mut offered = Vec::new();
    for reply in &bundle.replies {
        if reply.queue.is_some() && reply.queue != queue {
            continue;
        }
        let record = match reply.record {
            None => None,
            Some(id) => {
                let Some(info) = bundle.records.get(id.index()) else { continue };
                let Some(r) = found.iter().find(|r| *r.type_name == *info.name) else { continue };
                Some(r)
            }
        };
        offered.push((reply, record));
    }
    let mut out = Vec::new();
    for (reply, record) in &offered {
        // A reply for the queue takes the place of the one of its name for every queue.
        if reply.queue.is_none() && offered.iter().any(|(o, _)| o.queue.is_some() && o.name == reply.name) {
            continue;
        }
        let mut globals = vec![Value::None; reply.globals as usize];
        if let (Some(r), Some(g)) = (record, globals.first_mut()) {
            *g = Value::Record(Arc::new((*r).clone()));
        }
        let mut vm = Vm::new(bundle, reply.text, Box::new(view.contact.clone()), globals, None);
        vm.agent = agent.clone();
        let text = run(&mut vm, bundle, deployed, &host, state);
        out.push(RenderedReply { name: reply.name.clone(), text });
    }
    out
}

/// Runs a reply's text to its end; an `extern fn` it calls is called as a flow's is.
fn run(
    vm: &mut Vm,
    bundle: &Bundle,
    deployed: &crate::world::Deployed,
    host: &Host<'_>,
    state: &State,
) -> Result<String, String> {
    let mut fuel = FUEL;
    loop {
        match vm.run(bundle, host, state.now(), &mut fuel) {
            Step::Done => {
                return match vm.result() {
                    Some(Value::Text(t)) => Ok(t.to_string()),
                    Some(other) => Err(format!("the reply's text is not a text but {other}")),
                    None => Err("the reply's text gave nothing".to_string()),
                };
            }
            Step::Failed(why) => return Err(why),
            Step::Running => return Err("the reply's text ran too long".to_string()),
            Step::Yield(switchboard_vm::Effect::Extern { func, args }) => {
                let resume = match deployed.externs.call(func, &args) {
                    Ok(v) => Resume::Value(v),
                    Err(e) => {
                        let name = bundle.externs.get(func.index()).map_or("an extern fn", |x| x.name.as_str());
                        Resume::Failed(format!("`{name}` failed: {e}"))
                    }
                };
                vm.resume(bundle, resume);
            }
            Step::Yield(_) => return Err("a reply's text can only compute a text".to_string()),
        }
    }
}
