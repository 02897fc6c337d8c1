//! Inspection and waiting modules: `find`, `tempfile`, `wait_for`, `wait_for_connection`, `reboot`
//! and the controller-side `pause`.

pub mod find;
pub mod find_match;
pub mod pause;
pub mod reboot;
pub mod tempfile;
pub mod wait_for;
pub mod wait_for_connection;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Deserializes a whole number of seconds given as a number or a numeric string.
pub fn de_secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.ok_or_else(|| serde::de::Error::custom(format!("expected a number of seconds, got {v}")))
}

/// Deserializes an optional TCP port given as a number or a numeric string.
pub fn de_opt_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid port {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u16>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid port '{s}'"))),
        Some(other) => Err(serde::de::Error::custom(format!("invalid port {other}"))),
    }
}
