//! How `postgresql_query` runs arbitrary statements through psql and gets typed rows back.
//!
//! A statement that may or may not return rows cannot be wrapped in `json_agg`, so each one is
//! sent as `STATEMENT \gdesc \g`: psql first describes the result (column names and types,
//! without running it), then runs it, in `--csv` format with a NULL marker, and prints
//! `:ROW_COUNT`. psql prints the command tag (`INSERT 0 1`, `CREATE TABLE`) for statements
//! without rows and after `… RETURNING` rows. Markers (`\echo`) separate the parts; values
//! are typed from the described column types (integers, floats, booleans, JSON, arrays).

use serde_json::{json, Map, Number, Value};

/// psql's NULL display while running user statements.
pub const NULL_MARK: &str = "@@drover-null@@";
const MARK: &str = "@@drover:";

/// What one statement returned.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementResult {
    /// Rows (`None` when the statement returns no columns).
    pub rows: Option<Vec<Map<String, Value>>>,
    /// The command tag, as psycopg2's `statusmessage`.
    pub status: String,
    /// psycopg2's `rowcount`: rows returned or affected, -1 when not applicable.
    pub rowcount: i64,
    /// How long the statement ran (psql's `\timing`), in milliseconds.
    pub time_ms: f64,
}

/// Splits SQL into statements at top-level semicolons (quotes, dollar quotes, comments and
/// parentheses respected); empty statements are dropped, each keeps no trailing `;`.
pub fn split_statements(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    } else if q == b'\'' && b[i] == b'\\' && escape_string(b, start, i) {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'$' => {
                if let Some(len) = dollar_tag(&b[i..]) {
                    let tag = &b[i..i + len];
                    i += len;
                    while i < b.len() && !b[i..].starts_with(tag) {
                        i += 1;
                    }
                    i += len - 1;
                }
            }
            b';' => {
                out.push(sql[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(sql[start.min(sql.len())..].to_string());
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !only_comments(s))
        .collect()
}

/// True when the quote at the literal containing `i` is an `E'…'` string (backslash escapes).
fn escape_string(b: &[u8], start: usize, i: usize) -> bool {
    let open = b[start..i]
        .iter()
        .rposition(|c| *c == b'\'')
        .map(|p| p + start);
    open.is_some_and(|o| o > 0 && matches!(b[o - 1], b'E' | b'e'))
}

/// The length of a `$tag$` opening at the start of `b`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let end = b[1..].iter().position(|c| *c == b'$')? + 1;
    b[1..end]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .then_some(end + 1)
        .filter(|_| end == 1 || !b[1].is_ascii_digit())
}

fn only_comments(s: &str) -> bool {
    s.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with("--"))
}

/// The psql input running `statements` (each with `\gdesc`, `\g` and markers).
pub fn statements_script(statements: &[String]) -> String {
    let mut s = format!("\\pset null '{NULL_MARK}'\n");
    for (i, st) in statements.iter().enumerate() {
        s.push_str(&format!(
            "\\echo {MARK}d:{i}\n{st}\n\\gdesc\n\\echo {MARK}r:{i}\n\\timing on\n\\g\n\\timing off\n\\echo {MARK}c:{i} :ROW_COUNT\n"
        ));
    }
    s
}

/// Parses psql's output for [`statements_script`]'s `statements`.
pub fn parse_output(statements: &[String], out: &str) -> Result<Vec<StatementResult>, String> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in out.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(MARK) {
            sections.push((rest.trim_end().to_string(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
        }
    }
    let mut results = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let find = |kind: &str| {
            sections.iter().find(|(m, _)| {
                m == &format!("{kind}:{i}") || m.starts_with(&format!("{kind}:{i} "))
            })
        };
        let (Some((_, desc)), Some((_, body)), Some((count, _))) =
            (find("d"), find("r"), find("c"))
        else {
            return Err(format!("unexpected psql output: {}", out.trim()));
        };
        let row_count: i64 = count
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let (body, time_ms) = split_timing(body);
        let mut r = statement_result(st, desc, &body, row_count);
        r.time_ms = time_ms;
        results.push(r);
    }
    Ok(results)
}

/// Removes psql's `Time: 1.234 ms` line (the last one, from `\timing`) and returns its value.
fn split_timing(body: &str) -> (String, f64) {
    let mut lines: Vec<&str> = body.lines().collect();
    let mut ms = 0.0;
    if let Some(pos) = lines
        .iter()
        .rposition(|l| l.starts_with("Time: ") && l.contains(" ms"))
    {
        ms = lines[pos]["Time: ".len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        lines.remove(pos);
        lines.retain(|l| *l != "Timing is on." && *l != "Timing is off.");
    }
    let mut text = lines.join("\n");
    text.push('\n');
    (text, ms)
}

fn statement_result(statement: &str, desc: &str, body: &str, row_count: i64) -> StatementResult {
    let columns: Vec<(String, String)> = {
        let recs = parse_csv(desc);
        match recs.first() {
            Some(h) if h.len() == 2 && h[0] == "Column" && h[1] == "Type" => recs[1..]
                .iter()
                .filter(|r| r.len() == 2)
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect(),
            _ => Vec::new(),
        }
    };
    let keyword = statement
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if columns.is_empty() {
        let status = body
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("");
        return StatementResult {
            rows: None,
            rowcount: tag_count(status).unwrap_or(-1),
            status: status.to_string(),
            time_ms: 0.0,
        };
    }
    let mut recs = parse_csv(body);
    if !recs.is_empty() {
        recs.remove(0); // header
    }
    let mut status = String::new();
    // After `… RETURNING` rows psql prints the tag (`INSERT 0 2`); `SHOW` and others set
    // ROW_COUNT to 0, so only a DML tag whose count is ROW_COUNT, after exactly that many rows,
    // is one.
    let is_tag = |r: &Vec<String>| {
        r.len() == 1
            && ["INSERT ", "UPDATE ", "DELETE ", "MERGE "]
                .iter()
                .any(|k| r[0].starts_with(k))
            && tag_count(&r[0]) == Some(row_count)
    };
    if recs.len() as i64 == row_count + 1 && recs.last().is_some_and(is_tag) {
        if let Some(last) = recs.pop() {
            status = last.concat();
        }
    }
    let rows: Vec<Map<String, Value>> = recs
        .iter()
        .map(|r| {
            columns
                .iter()
                .zip(r.iter())
                .map(|((name, ty), v)| (name.clone(), typed(ty, v)))
                .collect()
        })
        .collect();
    let n = rows.len() as i64;
    if status.is_empty() {
        status = match keyword.as_str() {
            "SELECT" | "WITH" | "VALUES" | "TABLE" => format!("SELECT {n}"),
            "FETCH" | "MOVE" => format!("{keyword} {n}"),
            other => other.to_string(),
        };
    }
    StatementResult {
        rows: Some(rows),
        rowcount: tag_count(&status).unwrap_or(n),
        status,
        time_ms: 0.0,
    }
}

/// The count at the end of a command tag (`INSERT 0 3` → 3), if it has one.
fn tag_count(tag: &str) -> Option<i64> {
    let mut words = tag.split_whitespace();
    let first = words.next()?;
    let last = words.last()?;
    let counted = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "COPY", "FETCH", "MOVE",
    ];
    counted
        .contains(&first)
        .then(|| last.parse().ok())
        .flatten()
}

/// A CSV value typed by its PostgreSQL column type, as psycopg2 (and Ansible's JSON) return it.
pub fn typed(ty: &str, v: &str) -> Value {
    if v == NULL_MARK {
        return Value::Null;
    }
    if let Some(elem) = ty.strip_suffix("[]") {
        return parse_array(v)
            .map(|items| {
                Value::Array(
                    items
                        .iter()
                        .map(|i| i.as_deref().map_or(Value::Null, |s| typed(elem, s)))
                        .collect(),
                )
            })
            .unwrap_or_else(|| json!(v));
    }
    let base = ty.split('(').next().unwrap_or(ty).trim();
    match base {
        "smallint" | "integer" | "bigint" | "oid" => v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(v)),
        "numeric" | "real" | "double precision" => v
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| json!(v), Value::Number),
        "boolean" => json!(v == "t"),
        "json" | "jsonb" => serde_json::from_str(v).unwrap_or_else(|_| json!(v)),
        "timestamp with time zone" | "timestamp without time zone" => json!(iso_timestamp(v)),
        _ => json!(v),
    }
}

/// `2024-01-02 03:04:05.5+00` → `2024-01-02T03:04:05.500000+00:00` (Python's `isoformat`).
fn iso_timestamp(v: &str) -> String {
    let Some((date, time)) = v.split_once(' ') else {
        return v.to_string();
    };
    let tz_at = time.find(['+', '-']).unwrap_or(time.len());
    let (clock, tz) = time.split_at(tz_at);
    let clock = match clock.split_once('.') {
        Some((hms, frac)) => format!("{hms}.{frac:0<6}"),
        None => clock.to_string(),
    };
    let tz = match tz.len() {
        3 => format!("{tz}:00"),
        _ => tz.to_string(),
    };
    format!("{date}T{clock}{tz}")
}

/// A one-dimensional array literal (`{1,2,"a b",NULL}`); `None` when nested or malformed.
fn parse_array(v: &str) -> Option<Vec<Option<String>>> {
    let inner = v.strip_prefix('{')?.strip_suffix('}')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    _ => item.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                if *c == '{' {
                    return None;
                }
                item.push(*c);
                chars.next();
            }
        }
        items.push((quoted || item != "NULL").then_some(item));
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return None,
        }
    }
    Some(items)
}

/// Parses psql's `--csv` output into records.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut recs = Vec::new();
    let mut rec: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => rec.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                rec.push(std::mem::take(&mut field));
                recs.push(std::mem::take(&mut rec));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if any {
        rec.push(field);
        recs.push(rec);
    }
    recs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_top_level_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   -- a comment; here\nINSERT INTO t VALUES ('a;b', E'c\\';d');\n\n";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].ends_with("LANGUAGE sql"));
        assert!(parts[1].ends_with("E'c\\';d')"));
        assert_eq!(split_statements("SELECT 1"), vec!["SELECT 1"]);
    }

    #[test]
    fn output_is_parsed_into_typed_rows_and_tags() {
        let sts = vec![
            "SELECT * FROM t".to_string(),
            "INSERT INTO t(id) VALUES (3) RETURNING id".into(),
            "UPDATE t SET id = id".into(),
        ];
        let out = "Null display is \"x\".\n@@drover:d:0\nColumn,Type\nid,integer\ns,text\nj,jsonb\na,integer[]\n@@drover:r:0\nid,s,j,a\n1,,\"{\"\"a\"\": 1}\",\"{1,2}\"\n2,@@drover-null@@,@@drover-null@@,@@drover-null@@\n@@drover:c:0 2\n\
                   @@drover:d:1\nColumn,Type\nid,integer\n@@drover:r:1\nid\n3\nINSERT 0 1\n@@drover:c:1 1\n\
                   @@drover:d:2\nThe command has no result, or the result has no columns.\n@@drover:r:2\nUPDATE 3\n@@drover:c:2 3\n";
        let r = parse_output(&sts, out).unwrap();
        let rows = r[0].rows.as_ref().unwrap();
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[0]["s"], "");
        assert_eq!(rows[0]["j"], json!({"a": 1}));
        assert_eq!(rows[0]["a"], json!([1, 2]));
        assert_eq!(rows[1]["s"], Value::Null);
        assert_eq!(r[0].status, "SELECT 2");
        assert_eq!(r[1].status, "INSERT 0 1");
        assert_eq!(r[1].rows.as_ref().unwrap().len(), 1);
        assert_eq!(r[2].status, "UPDATE 3");
        let show = vec!["SHOW work_mem".to_string()];
        let out = "@@drover:d:0\nColumn,Type\nwork_mem,text\n@@drover:r:0\nwork_mem\n4MB\nTime: 0.1 ms\n@@drover:c:0 0\n";
        let sr = parse_output(&show, out).unwrap();
        assert_eq!(sr[0].status, "SHOW");
        assert_eq!(sr[0].rows.as_ref().unwrap()[0]["work_mem"], "4MB");
        assert_eq!(r[2].rowcount, 3);
        assert!(r[2].rows.is_none());
    }

    #[test]
    fn timestamps_look_like_pythons() {
        assert_eq!(
            iso_timestamp("2024-01-02 03:04:05.5+00"),
            "2024-01-02T03:04:05.500000+00:00"
        );
        assert_eq!(typed("boolean", "f"), json!(false));
        assert_eq!(typed("numeric(10,2)", "1.50"), json!(1.5));
    }
}
