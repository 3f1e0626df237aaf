//! Quality monitoring: a reviewer's answers to a `scorecard` for an ended contact, checked
//! against the bundle's scorecard and scored. Pure: the web side reads and stores.

use serde_json::{Map, Value};
use switchboard_bytecode::bytecode::ScorecardInfo;

/// What a reviewer sends: `{"scorecard", "answers": {"question": 0..1 | true | false}, "note"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub scorecard: String,
    /// Each question's answer, 0 to 1, in the scorecard's order.
    pub answers: Map<String, Value>,
    /// Σ weight × answer ÷ Σ weight, out of 100.
    pub score: f64,
    pub note: Option<String>,
}

/// The longest note a reviewer may leave.
pub const MAX_NOTE: usize = 4000;

/// Checks `body` against the project's scorecards and scores it, or says why not: an
/// unknown scorecard, a question missing or unknown, an answer that is not 0 to 1 or yes/no.
pub fn score(scorecards: &[ScorecardInfo], body: &Value) -> Result<Scored, String> {
    let Some(name) = body["scorecard"].as_str() else {
        return Err("`scorecard` is the name of one of the project's scorecards".to_string());
    };
    let Some(card) = scorecards.iter().find(|c| c.name == name) else {
        let names: Vec<String> = scorecards.iter().map(|c| format!("`{}`", c.name)).collect();
        return Err(match names.as_slice() {
            [] => format!("no scorecard `{name}`: the project declares none"),
            _ => format!("no scorecard `{name}`: the project's are {}", names.join(", ")),
        });
    };
    let Some(given) = body["answers"].as_object() else {
        return Err("`answers` is an object: question → a number from 0 to 1, or true/false".to_string());
    };
    if let Some(unknown) = given.keys().find(|k| !card.questions.iter().any(|q| &q.name == *k)) {
        return Err(format!("scorecard `{name}` has no question `{unknown}`"));
    }
    let mut answers = Map::new();
    let (mut sum, mut weights) = (0.0, 0.0);
    for q in &card.questions {
        let value = match given.get(&q.name) {
            None => return Err(format!("question `{}` is not answered", q.name)),
            Some(Value::Bool(b)) => f64::from(u8::from(*b)),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if (0.0..=1.0).contains(&v) => v,
                _ => return Err(format!("question `{}`: {n} is not from 0 to 1", q.name)),
            },
            Some(other) => {
                return Err(format!("question `{}`: {other} is not a number from 0 to 1, or true/false", q.name))
            }
        };
        answers.insert(q.name.clone(), Value::from(value));
        sum += f64::from(q.weight) * value;
        weights += f64::from(q.weight);
    }
    let note = match &body["note"] {
        Value::Null => None,
        Value::String(s) if s.len() > MAX_NOTE => return Err(format!("the note is longer than {MAX_NOTE} bytes")),
        Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        _ => return Err("`note` is a text".to_string()),
    };
    let score = if weights > 0.0 { (sum / weights * 1000.0).round() / 10.0 } else { 0.0 };
    Ok(Scored { scorecard: name.to_string(), answers, score, note })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_bytecode::bytecode::QuestionInfo;

    fn cards() -> Vec<ScorecardInfo> {
        let q = |name: &str, weight| QuestionInfo { name: name.into(), text: name.into(), weight };
        vec![ScorecardInfo { name: "chat".into(), questions: vec![q("greeted", 10), q("resolved", 30)] }]
    }

    #[test]
    fn scores_and_refusals() {
        let cases = [
            (json!({"scorecard": "chat", "answers": {"greeted": true, "resolved": 0.5}}), "score 62.5"),
            (json!({"scorecard": "chat", "answers": {"greeted": false, "resolved": 0}}), "score 0"),
            (json!({"scorecard": "chat", "answers": {"greeted": 1, "resolved": 1}, "note": "fine"}), "score 100"),
            (json!({"scorecard": "nope", "answers": {}}), "no scorecard `nope`: the project's are `chat`"),
            (json!({"answers": {}}), "`scorecard` is the name of one of the project's scorecards"),
            (json!({"scorecard": "chat", "answers": {"greeted": true}}), "question `resolved` is not answered"),
            (
                json!({"scorecard": "chat", "answers": {"greeted": true, "resolved": 1, "tone": 1}}),
                "scorecard `chat` has no question `tone`",
            ),
            (
                json!({"scorecard": "chat", "answers": {"greeted": 2, "resolved": 1}}),
                "question `greeted`: 2 is not from 0 to 1",
            ),
            (
                json!({"scorecard": "chat", "answers": {"greeted": "yes", "resolved": 1}}),
                "question `greeted`: \"yes\" is not a number from 0 to 1, or true/false",
            ),
            (
                json!({"scorecard": "chat", "answers": [1]}),
                "`answers` is an object: question → a number from 0 to 1, or true/false",
            ),
        ];
        for (body, want) in cases {
            let got = match score(&cards(), &body) {
                Ok(s) => format!("score {}", s.score),
                Err(e) => e,
            };
            assert_eq!(got, want, "{body}");
        }
    }
}
