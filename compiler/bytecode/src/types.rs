//! The types of the flow language, and the channels that are part of them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A channel a contact arrives on or is reached by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Voice,
    Chat,
    Email,
    Sms,
    Social,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Voice, Channel::Chat, Channel::Email, Channel::Sms, Channel::Social];

    pub fn parse(name: &str) -> Option<Channel> {
        Some(match name {
            "voice" => Channel::Voice,
            "chat" => Channel::Chat,
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            "social" => Channel::Social,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Social => "social",
        }
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of channels, as a bit set: what can reach a statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelSet(pub u8);

impl ChannelSet {
    pub const EMPTY: ChannelSet = ChannelSet(0);
    pub const ALL: ChannelSet = ChannelSet(0b11111);

    pub fn only(channel: Channel) -> ChannelSet {
        ChannelSet(channel.bit())
    }
    pub fn contains(self, channel: Channel) -> bool {
        self.0 & channel.bit() != 0
    }
    pub fn insert(&mut self, channel: Channel) {
        self.0 |= channel.bit();
    }
    pub fn union(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 | other.0)
    }
    pub fn intersect(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 & other.0)
    }
    pub fn minus(self, other: ChannelSet) -> ChannelSet {
        ChannelSet(self.0 & !other.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Channel> {
        Channel::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Channel> for ChannelSet {
    fn from_iter<I: IntoIterator<Item = Channel>>(iter: I) -> Self {
        let mut set = ChannelSet::EMPTY;
        for c in iter {
            set.insert(c);
        }
        set
    }
}

impl fmt::Display for ChannelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Channel::as_str).collect();
        f.write_str(&names.join(", "))
    }
}

/// Every expression has exactly one of these, known at compile time.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    Text,
    Number,
    Bool,
    Duration,
    Time,
    Date,
    DateTime,
    Money,
    Phone,
    Email,
    Channel,
    Agent,
    List(Box<Type>),
    Optional(Box<Type>),
    Record(Arc<str>),
    Enum(Arc<str>),
    /// The type of the literal `none`: fits any optional.
    None,
    /// A `/regex/` literal; only stands right of `matches`.
    Regex,
    /// The value of `hours` declarations, passed to `open(…)`.
    Hours,
    /// Stands for an expression that already has an error: fits everything, so one
    /// mistake is reported once.
    Error,
}

impl Type {
    pub fn optional(self) -> Type {
        match self {
            Type::Optional(_) | Type::None | Type::Error => self,
            other => Type::Optional(Box::new(other)),
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_) | Type::None)
    }

    /// `T` for `T?`, itself otherwise.
    pub fn unwrap_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }

    /// Whether a value of type `self` may stand where `expected` is wanted.
    pub fn fits(&self, expected: &Type) -> bool {
        match (self, expected) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::None, Type::Optional(_)) => true,
            (Type::Optional(a), Type::Optional(b)) => a.fits(b),
            (a, Type::Optional(b)) => a.fits(b),
            (Type::List(a), Type::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    /// The built-in type a name denotes, if any.
    pub fn builtin(name: &str) -> Option<Type> {
        Some(match name {
            "text" => Type::Text,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "duration" => Type::Duration,
            "time" => Type::Time,
            "date" => Type::Date,
            "datetime" => Type::DateTime,
            "money" => Type::Money,
            "phone" => Type::Phone,
            "email" => Type::Email,
            "channel" => Type::Channel,
            "agent" => Type::Agent,
            _ => return None,
        })
    }

    pub const BUILTIN_NAMES: [&'static str; 12] = [
        "text", "number", "bool", "duration", "time", "date", "datetime", "money", "phone", "email", "channel", "agent",
    ];
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Text => f.write_str("text"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Duration => f.write_str("duration"),
            Type::Time => f.write_str("time"),
            Type::Date => f.write_str("date"),
            Type::DateTime => f.write_str("datetime"),
            Type::Money => f.write_str("money"),
            Type::Phone => f.write_str("phone"),
            Type::Email => f.write_str("email"),
            Type::Channel => f.write_str("channel"),
            Type::Agent => f.write_str("agent"),
            Type::List(inner) => write!(f, "[{inner}]"),
            Type::Optional(inner) => write!(f, "{inner}?"),
            Type::Record(name) | Type::Enum(name) => f.write_str(name),
            Type::None => f.write_str("none"),
            Type::Regex => f.write_str("regex"),
            Type::Hours => f.write_str("hours"),
            Type::Error => f.write_str("{unknown}"),
        }
    }
}
