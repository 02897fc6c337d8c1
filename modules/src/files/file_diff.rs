//! The `diff` result key of `file`, as ansible-core's module returns it in diff mode.

use drover_core::module::ModuleResult;
use serde_json::{Map, Value};

/// The time a timestamp request stands for, in seconds since the epoch: now for `""`, else the
/// default-format timestamp read as UTC (check mode only reports it).
pub(super) fn requested_epoch(ts: &str) -> Option<f64> {
    if ts.is_empty() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        return Some(now.as_secs_f64());
    }
    let (date, sec) = ts.split_once('.')?;
    if date.len() != 12 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| date.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(8..10)?, num(10..12)?, sec.parse::<i64>().ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

/// Sets the `diff` result key as ansible-core's `file` returns it in diff mode: the `before` and
/// `after` maps themselves (the reporter renders them as JSON).
pub(super) fn set_diff(
    r: &mut ModuleResult,
    before: Map<String, Value>,
    after: Map<String, Value>,
) {
    let mut d = Map::new();
    d.insert("before".into(), Value::Object(before));
    d.insert("after".into(), Value::Object(after));
    r.data.insert("diff".into(), Value::Object(d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_epochs() {
        assert_eq!(requested_epoch("197001010000.00"), Some(0.0));
        assert_eq!(requested_epoch("202401311230.15"), Some(1_706_704_215.0));
        assert_eq!(requested_epoch("2024013112.15"), None);
        assert!(requested_epoch("").is_some_and(|t| t > 1.7e9));
    }

    #[test]
    fn diff_holds_the_maps_themselves() {
        let mut r = ModuleResult::ok();
        let mut before = Map::new();
        before.insert("path".into(), "/x".into());
        before.insert("state".into(), "absent".into());
        let mut after = before.clone();
        after.insert("state".into(), "directory".into());
        set_diff(&mut r, before, after);
        assert_eq!(
            r.to_value()["diff"],
            serde_json::json!({
                "before": {"path": "/x", "state": "absent"},
                "after": {"path": "/x", "state": "directory"}
            })
        );
    }
}
