//! `switchboard run`: play one contact through a project in the terminal, as the customer.
//!
//! The contact runs on the same engine as `switchboard test` and production, with the
//! project's own CSV and SQLite sources and a virtual clock that moves only on `/wait`.
//! What the customer hears or reads is printed as plain lines; everything else that
//! happens (waypoints, look-ups, queues) as dim `[bracketed]` status lines. Each line read
//! from stdin is what the customer does next: keys, words, or a `/command`.

use super::build::{compile, Compiled};
use super::output;
use jiff::{SignedDuration, Zoned};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use switchboard_bytecode::types::Channel;
use switchboard_calendar::parse_at;
use switchboard_compiler::syntax::parse::parse_duration;
use switchboard_engine::{Completion, EventKind, Reply};
use switchboard_shell::clock::{Clock, SystemClock};
use switchboard_shell::{LocalShell, Options};

const HELP: &str = "\
type what the customer does, one line at a time:
  1, 23#, *       keys pressed on the phone (voice)
  any other text  words said or typed
  /wait 10s       let time pass (silence: menus and questions time out)
  /quit           hang up";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The project folder
    path: PathBuf,
    /// The channel the contact arrives on: voice, chat, email, sms or social
    #[arg(long, default_value = "voice", value_parser = channel)]
    channel: Channel,
    /// Who the contact is from (default: an example customer for the channel)
    #[arg(long)]
    from: Option<String>,
    /// The number or address contacted (default: the channel's only entry, or its first)
    #[arg(long)]
    to: Option<String>,
    /// The subject of an email
    #[arg(long, default_value = "")]
    subject: String,
    /// The text of a message that opens the contact (email, sms, social)
    #[arg(long, default_value = "")]
    text: String,
    /// When the contact arrives, e.g. "2026-11-23 10:00 Europe/London" (default: now)
    #[arg(long)]
    at: Option<String>,
}

fn channel(name: &str) -> Result<Channel, String> {
    Channel::parse(name).ok_or_else(|| format!("`{name}` is not a channel: voice, chat, email, sms or social"))
}

/// Someone to be when `--from` is not given: nobody the example projects know.
fn example_sender(channel: Channel) -> &'static str {
    match channel {
        Channel::Voice | Channel::Sms => "+447700900123",
        Channel::Email => "someone@example.net",
        Channel::Chat => "visitor-1",
        Channel::Social => "@someone",
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    // The edge of the program: the only place `run` reads the host's clock.
    let start = match &args.at {
        Some(at) => parse_at(at)?,
        None => SystemClock.now().to_zoned(jiff::tz::TimeZone::system()),
    };
    let Some(Compiled { bundle, project, .. }) = compile(&args.path)? else {
        return Ok(ExitCode::from(super::EXIT_FAILED));
    };
    let bundle = Arc::new(bundle);
    let mut out = Transcript::new(start.clone());

    let entries: Vec<&str> =
        bundle.entries.iter().filter(|e| e.channel == args.channel).map(|e| e.address.as_str()).collect();
    let to = match (&args.to, entries.as_slice()) {
        (_, []) => return Err(format!("the project has no {} entry to contact", args.channel)),
        (Some(to), _) => Some(to.clone()),
        (None, [_]) => None,
        (None, [first, ..]) => {
            out.status(&format!(
                "calling {first}, the first of {} {} entries ({}); choose with --to",
                entries.len(),
                args.channel,
                entries.join(", ")
            ));
            Some(first.to_string())
        }
    };

    let options = Options { defer_payments: true, ..Options::default() };
    let mut engine = LocalShell::for_project(bundle, &project.root, options, start.timestamp())?;
    let from = args.from.as_deref().unwrap_or(example_sender(args.channel));
    let contact = engine.contact(args.channel, from, to.as_deref(), &args.subject, &args.text)?;
    out.events(&mut engine);

    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    if interactive && engine.state().is_live(contact.session()) {
        out.status("type /help for what you can do");
    }
    let mut input = stdin.lock();
    while engine.state().is_live(contact.session()) {
        // `collect payment`: the next line is the card, for the secure form only. It is never
        // shown, sent to the flow or kept; the flow hears captured or declined.
        if let Some(payment) = engine.state().pending_payment() {
            out.status("secure payment form: enter the card number (it is not shown or kept)");
            let card = if interactive {
                rpassword::read_password().map_err(|e| format!("cannot read the card number: {e}"))?
            } else {
                match read_line(&mut input, interactive)? {
                    Some(line) => line,
                    None => break,
                }
            };
            let result = if switchboard_engine::cards::is_card_number(&card) {
                Completion::PaymentCaptured
            } else {
                Completion::PaymentDeclined
            };
            out.status(if result == Completion::PaymentCaptured { "payment captured" } else { "payment declined" });
            drop(card);
            if let Err(why) = engine.complete(payment, result) {
                errln!("{why}");
            }
            out.events(&mut engine);
            continue;
        }
        let Some(line) = read_line(&mut input, interactive)? else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix('/') {
            Some(command) => {
                if !interactive {
                    out.line(&format!("> {line}"));
                }
                match command.split_whitespace().collect::<Vec<_>>().as_slice() {
                    ["quit"] => break,
                    ["help"] => outln!("{HELP}"),
                    ["wait", d] => match duration(d) {
                        Ok(d) => {
                            let to = engine.now().checked_add(d).map_err(|e| e.to_string())?;
                            engine.advance(to);
                            let at = to.to_zoned(start.time_zone().clone()).strftime("%H:%M:%S");
                            out.status(&format!("now {at}"));
                        }
                        Err(why) => errln!("{why}"),
                    },
                    ["wait", ..] => errln!("say how long to wait, like `/wait 10s`"),
                    _ => errln!("there is no command `{line}`: try /wait 10s, /quit or /help"),
                }
            }
            None => {
                // A key may take a callback offered in a queue; otherwise it answers what waits.
                let session = engine.state().waiting_session().unwrap_or(contact.session());
                let stray = engine.state().stray_inputs();
                let result = engine.input(session, reply(args.channel, line));
                if engine.state().stray_inputs() > stray {
                    // Input nothing waits for is dropped unseen: it may be card digits.
                    out.status("nothing is waiting for input: ignored (try /wait 10s or /quit)");
                } else {
                    if !interactive {
                        out.line(&format!("> {line}"));
                    }
                    if let Err(why) = result {
                        errln!("{why}");
                    }
                }
            }
        }
        out.events(&mut engine);
    }
    // Leaving the simulator hangs up a contact still waiting or talking.
    if engine.state().is_live(contact.session()) {
        engine.hang_up(contact)?;
        out.events(&mut engine);
    }
    out.status("contact ended");
    Ok(ExitCode::SUCCESS)
}

/// The longest line `run` takes from its input (64 KiB): far more than anyone keys or types.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line from the customer, or `None` at the end of input. In a terminal, with a prompt.
/// A line longer than [`MAX_LINE_BYTES`] is refused with a message and skipped: it is read
/// through to its end a buffer at a time, and never held whole.
fn read_line(input: &mut impl BufRead, interactive: bool) -> Result<Option<String>, String> {
    loop {
        if interactive {
            output::print("> ");
        }
        let mut bytes = Vec::new();
        let (mut read_any, mut too_long) = (false, false);
        loop {
            let buffer = match input.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read the input: {e}")),
            };
            if buffer.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, ends) = match buffer.iter().position(|&b| b == b'\n') {
                Some(newline) => (&buffer[..newline], true),
                None => (buffer, false),
            };
            if !too_long && bytes.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                bytes = Vec::new();
            }
            if !too_long {
                bytes.extend_from_slice(chunk);
            }
            let used = chunk.len() + usize::from(ends);
            input.consume(used);
            if ends {
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        if too_long {
            errln!("a line longer than {} KiB was skipped: type at most that much on one line", MAX_LINE_BYTES / 1024);
            continue;
        }
        return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
    }
}

/// Keys on a phone; words everywhere else.
fn reply(channel: Channel, line: &str) -> Reply {
    let keys = line.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#');
    if channel == Channel::Voice && keys {
        Reply::Keys(line.to_string())
    } else {
        Reply::Text(line.to_string())
    }
}

/// `8s`, `2m`, `1h30m`, `500ms`: as durations are written in flows.
fn duration(text: &str) -> Result<SignedDuration, String> {
    let bad = || format!("`{text}` is not a duration: write it like 10s, 2m or 1h");
    if !text.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    match parse_duration(text) {
        Some(0) => Err(format!("`{text}` is no time at all: wait at least 1ms")),
        Some(ms) => Ok(SignedDuration::from_millis(ms)),
        None => Err(bad()),
    }
}

/// Prints the contact as the customer lives it.
struct Transcript {
    /// Dim status lines only on a terminal that wants colour.
    dim: bool,
    start: Zoned,
}

impl Transcript {
    fn new(start: Zoned) -> Transcript {
        let dim = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Transcript { dim, start }
    }

    fn line(&self, text: &str) {
        outln!("{text}");
    }

    fn status(&self, text: &str) {
        if self.dim {
            outln!("\x1b[2m[{text}]\x1b[0m");
        } else {
            outln!("[{text}]");
        }
    }

    /// Everything that happened since last time, in order.
    fn events(&mut self, engine: &mut LocalShell) {
        for event in engine.take_events() {
            match &event.kind {
                EventKind::Say { text } => self.line(text),
                EventKind::Choice { prompt, options } => self.line(&format!("{prompt} ({})", options.join(" / "))),
                // What the customer typed is on the screen already, and a survey's questions
                // follow; these events are for reports.
                EventKind::Input { .. } | EventKind::Answer { .. } | EventKind::Survey { .. } => {}
                EventKind::Contact { channel, from, to, flow } => {
                    let at = self.start.strftime("%Y-%m-%d %H:%M %Q");
                    self.status(&format!("{channel} contact from {from} to {to} at {at} → flow {flow}"));
                }
                other => self.status(&other.to_string()),
            }
        }
    }
}
