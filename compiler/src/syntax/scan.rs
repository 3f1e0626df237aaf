//! A quick pass over the raw text, before pest: collects `//` comments (for the
//! formatter) and finds brackets nested too deep (so no later stage recurses without end).

use super::ast::{Comment, Span};
use super::parse::MAX_NESTING;

#[derive(Debug, Default)]
pub struct Scanned {
    pub comments: Vec<Comment>,
    /// Where nesting first went past `MAX_NESTING`.
    pub too_deep: Option<Span>,
}

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// `{`, `[` or `(` in code.
    Bracket,
    /// Inside a text literal.
    Text,
    /// Inside `{…}` in a text literal: code again, until the matching `}`.
    Interpolation,
}

fn is_word_byte(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Scans `text`, understanding texts (with nested interpolations) well enough that a
/// `//` inside a text is not a comment.
pub fn scan(text: &str) -> Scanned {
    let bytes = text.as_bytes();
    let mut out = Scanned::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Prefix operators in a row (`not not …`, `- - …`): each is one level of recursion.
    let mut prefixes = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let in_text = stack.last() == Some(&Frame::Text);
        if in_text {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' | b'\r' => {
                    stack.pop();
                }
                b'{' if bytes.get(i + 1) == Some(&b'{') => i += 1,
                b'}' if bytes.get(i + 1) == Some(&b'}') => i += 1,
                b'{' => stack.push(Frame::Interpolation),
                _ => {}
            }
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if b == b'-' && bytes.get(i + 1) != Some(&b'>') {
            prefixes += 1;
        } else if b == b'n' && starts_word && text[i..].starts_with("not") && !is_word_byte(bytes.get(i + 3)) {
            prefixes += 1;
            i += 3;
            continue;
        } else if !b.is_ascii_whitespace() && b != b'(' {
            prefixes = 0;
        }
        if prefixes > MAX_NESTING && out.too_deep.is_none() {
            out.too_deep = Some(Span::new(i, i + 1));
        }
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find(['\n', '\r']).map_or(text.len(), |n| i + n);
                out.comments.push(Comment { text: text[i..end].trim_end().to_string(), span: Span::new(i, end) });
                i = end;
                continue;
            }
            b'"' => stack.push(Frame::Text),
            b'{' | b'[' | b'(' => {
                stack.push(Frame::Bracket);
                if stack.len() > MAX_NESTING && out.too_deep.is_none() {
                    out.too_deep = Some(Span::new(i, i + 1));
                }
            }
            b'}' | b']' | b')' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    out
}
