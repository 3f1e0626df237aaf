//! Card numbers in what people type: found by their Luhn check digit and masked before any
//! text is kept, so a customer who pastes their card into a chat leaves no digits in a
//! journal, an event, a log or an agent's screen.
//!
//! A card number (PAN) is 12 to 19 digits, written together or in groups split by one space
//! or dash, whose last digit is its Luhn check digit. In a run of groups (a card followed by
//! its CVV, say) the longest leading groups that make one are taken. A run after `+` is a
//! phone number. All digits but the last four are masked, as card receipts print them; the
//! separators are kept. About one in ten other numbers of 12 to 19 digits passes the check
//! by chance and is masked too: a price worth paying for never keeping a card.

use std::borrow::Cow;

/// The mask that stands for each hidden digit.
pub const MASK: char = 'X';

/// Whether `text` is a card number and nothing else: 12 to 19 digits (spaces and dashes
/// allowed) with a valid Luhn check digit.
pub fn is_card_number(text: &str) -> bool {
    let digits: Option<Vec<u8>> =
        text.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_digit(10).map(|d| d as u8)).collect();
    digits.is_some_and(|d| (12..=19).contains(&d.len()) && luhn(&d))
}

/// `text` with the digits of every card number in it masked but the last four.
pub fn redact(text: &str) -> Cow<'_, str> {
    let chars: Vec<char> = text.chars().collect();
    let mut masked: Option<Vec<char>> = None;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run of digits with single separators between them, and where its groups end.
        let mut positions = Vec::new();
        let mut ends = Vec::new();
        let mut j = i;
        while j < chars.len() {
            if chars[j].is_ascii_digit() {
                positions.push(j);
                j += 1;
            } else if (chars[j] == ' ' || chars[j] == '-') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
                ends.push(positions.len());
                j += 1;
            } else {
                break;
            }
        }
        ends.push(positions.len());
        // `+44 7700 900001` is a phone number.
        let phone = i > 0 && chars[i - 1] == '+';
        let digits: Vec<u8> = positions.iter().map(|&k| chars[k] as u8 - b'0').collect();
        let card = ends.iter().rev().copied().find(|&n| (12..=19).contains(&n) && luhn(&digits[..n]));
        if let (Some(n), false) = (card, phone) {
            let out = masked.get_or_insert_with(|| chars.clone());
            for &k in &positions[..n - 4] {
                out[k] = MASK;
            }
        }
        i = j;
    }
    match masked {
        Some(chars) => Cow::Owned(chars.into_iter().collect()),
        None => Cow::Borrowed(text),
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match i % 2 {
                1 if d * 2 > 9 => d * 2 - 9,
                1 => d * 2,
                _ => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_masked_but_their_last_four_digits() {
        let cases = [
            ("4111111111111111", "XXXXXXXXXXXX1111"),
            ("my card is 4111 1111 1111 1111, thanks", "my card is XXXX XXXX XXXX 1111, thanks"),
            ("5500-0000-0000-0004 exp 12/29", "XXXX-XXXX-XXXX-0004 exp 12/29"),
            // Followed by its CVV, in one run of digits: the card is still found.
            ("4111 1111 1111 1111 123", "XXXX XXXX XXXX 1111 123"),
            ("two: 4111111111111111 and 3782 822463 10005", "two: XXXXXXXXXXXX1111 and XXXX XXXXXX X0005"),
        ];
        for (typed, kept) in cases {
            assert_eq!(redact(typed), kept, "{typed}");
        }
    }

    #[test]
    fn other_numbers_are_left_alone() {
        for text in [
            "call me on +44 7700 900001",
            "order 4111111111111112",
            "I paid £250.50 on 2026-11-23",
            "12345678901",
            "",
            "ünïcödé 1234",
        ] {
            assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn a_whole_card_number_is_recognised() {
        assert!(is_card_number("4111 1111 1111 1111"));
        assert!(is_card_number("4111-1111-1111-1111"));
        assert!(!is_card_number("4111 1111 1111 1112"));
        assert!(!is_card_number("card 4111 1111 1111 1111"));
        assert!(!is_card_number("41111111111"));
    }

    #[test]
    fn no_text_panics_or_grows() {
        let mut seed = 7u64;
        for _ in 0..2000 {
            let text: String = (0..(seed % 60))
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ['1', '4', '0', ' ', '-', 'a', 'é', '9'][(seed >> 60) as usize % 8]
                })
                .collect();
            let out = redact(&text);
            assert_eq!(out.chars().count(), text.chars().count(), "{text:?}");
        }
    }
}
