//! The pure half of `postgresql_user`: role attribute flags, password verifiers (SCRAM-SHA-256
//! and MD5, computed on the controller so the clear-text password never reaches the server or
//! its logs), deciding whether a stored verifier matches a password, and the statements that
//! bring a role to the task's state. The statements come in two forms: the one executed and the
//! one reported in `queries`, where the password is `'********'`.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::common::{quote_ident_part, quote_literal};

/// Role attributes `role_attr_flags` may name, with the `pg_roles` column telling each.
pub const FLAGS: &[(&str, &str)] = &[
    ("SUPERUSER", "rolsuper"),
    ("CREATEROLE", "rolcreaterole"),
    ("CREATEDB", "rolcreatedb"),
    ("INHERIT", "rolinherit"),
    ("LOGIN", "rolcanlogin"),
    ("REPLICATION", "rolreplication"),
    ("BYPASSRLS", "rolbypassrls"),
];

/// What `password` shows in `queries`.
pub const MASK: &str = "'********'";

/// Iterations of a SCRAM-SHA-256 verifier made here (PostgreSQL's `scram_iterations` default).
pub const SCRAM_ITERATIONS: u32 = 4096;

/// Parses `role_attr_flags` (`CREATEDB,NOSUPERUSER`): each flag with the value it asks for,
/// sorted by name. Unknown flags fail with the collection's message.
pub fn parse_flags(text: &str) -> Result<Vec<(String, bool)>, String> {
    let mut flags: BTreeMap<String, bool> = BTreeMap::new();
    let mut bad = Vec::new();
    for raw in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let flag = raw.to_ascii_uppercase();
        let (name, on) = match flag.strip_prefix("NO") {
            Some(rest) if FLAGS.iter().any(|(f, _)| *f == rest) => (rest.to_string(), false),
            _ => (flag.clone(), true),
        };
        if FLAGS.iter().any(|(f, _)| *f == name) {
            flags.insert(name, on);
        } else {
            bad.push(flag);
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "Invalid role_attr_flags specified: {}",
            bad.join(" ")
        ));
    }
    Ok(flags.into_iter().collect())
}

/// The flags as SQL (`CREATEDB NOSUPERUSER`).
pub fn flags_sql(flags: &[(String, bool)]) -> String {
    flags
        .iter()
        .map(|(f, on)| if *on { f.clone() } else { format!("NO{f}") })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `pg_roles` column of a flag.
pub fn flag_column(flag: &str) -> Option<&'static str> {
    FLAGS.iter().find(|(f, _)| *f == flag).map(|(_, c)| *c)
}

/// A `password` value as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// `''`: the role must have no password.
    Remove,
    /// An MD5 verifier (`md5` + 32 hex digits), used as is.
    Md5(String),
    /// A SCRAM-SHA-256 verifier, used as is.
    Scram(String),
    /// A clear-text password.
    Clear(String),
}

impl Password {
    /// Classifies the given value.
    pub fn parse(value: &str) -> Self {
        if value.is_empty() {
            Self::Remove
        } else if is_md5_verifier(value) {
            Self::Md5(value.to_string())
        } else if parse_scram(value).is_some() {
            Self::Scram(value.to_string())
        } else {
            Self::Clear(value.to_string())
        }
    }
}

fn is_md5_verifier(v: &str) -> bool {
    v.len() == 35 && v.starts_with("md5") && v[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The parts of a SCRAM-SHA-256 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scram {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Salt.
    pub salt: Vec<u8>,
    /// StoredKey (what a client proof is checked against).
    pub stored_key: Vec<u8>,
    /// ServerKey (what a given password is checked against here).
    pub server_key: Vec<u8>,
}

/// Parses a SCRAM-SHA-256 verifier (`SCRAM-SHA-256$iter:salt$stored:server`).
pub fn parse_scram(v: &str) -> Option<Scram> {
    let rest = v.strip_prefix("SCRAM-SHA-256$")?;
    let (iter_salt, keys) = rest.split_once('$')?;
    let (iter, salt) = iter_salt.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    let b64 = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            .then(|| B64.decode(s).ok())
            .flatten()
    };
    Some(Scram {
        iterations: iter.parse().ok()?,
        salt: b64(salt)?,
        stored_key: b64(stored)?,
        server_key: b64(server)?,
    })
}

/// SASLprep as far as drover applies it: non-ASCII spaces become spaces and characters
/// "commonly mapped to nothing" are dropped (RFC 4013); Unicode normalisation (NFKC) is not
/// applied, so a password must already be in that form (ASCII always is).
fn saslprep(password: &str) -> String {
    password
        .chars()
        .filter(|c| {
            !matches!(*c as u32, 0xAD | 0x034F | 0x1806 | 0x180B..=0x180D | 0x200B..=0x200D
                | 0x2060 | 0xFE00..=0xFE0F | 0xFEFF)
        })
        .map(|c| match c as u32 {
            0xA0 | 0x1680 | 0x2000..=0x200B | 0x202F | 0x205F | 0x3000 => ' ',
            _ => c,
        })
        .collect()
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(saslprep(password).as_bytes(), salt, iterations, &mut out);
    out
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password` with this salt.
pub fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let salted = salted_password(password, salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored_key),
        B64.encode(server_key)
    )
}

/// The MD5 verifier of `password` for role `user`.
pub fn md5_verifier(password: &str, user: &str) -> String {
    format!(
        "md5{:x}",
        md5::compute(format!("{password}{user}").as_bytes())
    )
}

/// Whether the stored verifier `current` already holds `given` (no change needed), as the
/// collection decides it: verifiers are compared as text, a clear-text password is checked
/// against the stored SCRAM server key or MD5 hash.
pub fn password_matches(current: Option<&str>, user: &str, given: &Password) -> bool {
    match (given, current) {
        (Password::Remove, cur) => cur.is_none(),
        (_, None) => false,
        (Password::Md5(v) | Password::Scram(v), Some(cur)) => v == cur,
        (Password::Clear(p), Some(cur)) => match parse_scram(cur) {
            Some(s) => {
                let salted = salted_password(p, &s.salt, s.iterations);
                hmac(&salted, b"Server Key") == s.server_key
            }
            None if is_md5_verifier(cur) => md5_verifier(p, user) == cur,
            None => p == cur,
        },
    }
}

/// The verifier sent to the server for `given`: verifiers as they are, a clear-text password
/// hashed as the server's `password_encryption` asks (`md5`, else SCRAM-SHA-256).
pub fn verifier_for(given: &Password, user: &str, password_encryption: &str) -> Option<String> {
    match given {
        Password::Remove => None,
        Password::Md5(v) | Password::Scram(v) => Some(v.clone()),
        Password::Clear(p) if password_encryption == "md5" => Some(md5_verifier(p, user)),
        Password::Clear(p) => {
            let salt: [u8; 16] = rand::random();
            Some(scram_verifier(p, &salt, SCRAM_ITERATIONS))
        }
    }
}

/// One statement: the SQL executed and the text reported in `queries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// What runs.
    pub sql: String,
    /// What `queries` shows (the password masked).
    pub shown: String,
}

impl Statement {
    /// A statement shown as it runs.
    pub fn plain(sql: impl Into<String>) -> Self {
        let sql = sql.into();
        Self {
            shown: sql.clone(),
            sql,
        }
    }
}

/// What the task asks of a role's login attributes.
#[derive(Debug, Clone, Default)]
pub struct RoleSpec {
    /// The role.
    pub name: String,
    /// The password, when given.
    pub password: Option<Password>,
    /// The verifier to store for it (`None` for [`Password::Remove`]).
    pub verifier: Option<String>,
    /// Parsed `role_attr_flags`.
    pub flags: Vec<(String, bool)>,
    /// `expires`.
    pub expires: Option<String>,
    /// `conn_limit`.
    pub conn_limit: Option<i64>,
}

fn password_clause(spec: &RoleSpec) -> Option<(String, String)> {
    match (&spec.password, &spec.verifier) {
        (Some(Password::Remove), _) => Some(("PASSWORD NULL".into(), "PASSWORD NULL".into())),
        (Some(_), Some(v)) => Some((
            format!("ENCRYPTED PASSWORD {}", quote_literal(v)),
            format!("ENCRYPTED PASSWORD {MASK}"),
        )),
        _ => None,
    }
}

fn tail(spec: &RoleSpec, flags: bool) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(e) = &spec.expires {
        parts.push(format!("VALID UNTIL {}", quote_literal(e)));
    }
    if let Some(n) = spec.conn_limit {
        parts.push(format!("CONNECTION LIMIT {n}"));
    }
    if flags && !spec.flags.is_empty() {
        parts.push(flags_sql(&spec.flags));
    }
    parts
}

fn assemble(head: String, pw: Option<(String, String)>, rest: Vec<String>) -> Statement {
    let (mut sql, mut shown) = (head.clone(), head);
    if let Some((run, show)) = pw {
        sql.push_str(&format!(" WITH {run}"));
        shown.push_str(&format!(" WITH {show}"));
    }
    for part in rest {
        sql.push(' ');
        sql.push_str(&part);
        shown.push(' ');
        shown.push_str(&part);
    }
    Statement { sql, shown }
}

/// `CREATE USER` for a new role.
pub fn create_statement(spec: &RoleSpec) -> Statement {
    let head = format!("CREATE USER {}", quote_ident_part(&spec.name));
    let pw = password_clause(spec).filter(|_| spec.password != Some(Password::Remove));
    assemble(head, pw, tail(spec, true))
}

/// What differs on an existing role, read from `pg_roles` (plus `expires_differs` computed by
/// the server and the stored verifier when readable).
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    /// The password must be set.
    pub password: bool,
    /// A flag differs.
    pub flags: bool,
    /// `VALID UNTIL` differs.
    pub expires: bool,
    /// `CONNECTION LIMIT` differs.
    pub conn_limit: bool,
}

impl RoleChanges {
    /// Whether anything differs.
    pub fn any(&self) -> bool {
        self.password || self.flags || self.expires || self.conn_limit
    }
}

/// Compares the role row (`pg_roles` columns) with the spec. `stored` is the verifier from
/// `pg_authid`: `None` inside when the role has none, outer `None` when it cannot be read (then
/// the password is assumed to differ, as the collection assumes).
pub fn role_changes(
    spec: &RoleSpec,
    row: &Map<String, Value>,
    stored: Option<Option<&str>>,
    check_password: bool,
) -> RoleChanges {
    let flags = spec.flags.iter().any(|(f, on)| {
        let col = flag_column(f).unwrap_or_default();
        row.get(col).and_then(Value::as_bool) != Some(*on)
    });
    let password = check_password
        && match (&spec.password, stored) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(p), Some(cur)) => !password_matches(cur, &spec.name, p),
        };
    RoleChanges {
        password,
        flags,
        expires: check_password
            && spec.expires.is_some()
            && row.get("expires_differs").and_then(Value::as_bool) != Some(false),
        conn_limit: check_password
            && spec
                .conn_limit
                .is_some_and(|n| row.get("rolconnlimit").and_then(Value::as_i64) != Some(n)),
    }
}

/// `ALTER USER` bringing an existing role to the spec, shaped as the collection shapes it.
pub fn alter_statement(spec: &RoleSpec, changes: &RoleChanges, check_password: bool) -> Statement {
    let head = format!("ALTER USER {}", quote_ident_part(&spec.name));
    if !check_password {
        return assemble(head, None, vec![format!("WITH {}", flags_sql(&spec.flags))]);
    }
    if changes.password {
        return assemble(head, password_clause(spec), tail(spec, true));
    }
    let mut rest = Vec::new();
    if !spec.flags.is_empty() {
        rest.push(format!("WITH {}", flags_sql(&spec.flags)));
    }
    rest.extend(tail(spec, false));
    assemble(head, None, rest)
}

/// Parses `rolconfig` (`["work_mem=16MB"]`) into a map.
pub fn parse_config(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|s| s.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `ALTER ROLE … RESET/SET` statements that bring `current` to `desired`.
pub fn config_statements(
    user: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
    reset_unspecified: bool,
    quote_values: bool,
) -> Vec<Statement> {
    let role = quote_ident_part(user);
    let mut out = Vec::new();
    if reset_unspecified {
        for key in current.keys().filter(|k| !desired.contains_key(*k)) {
            out.push(Statement::plain(format!(
                "ALTER ROLE {role} RESET {};",
                quote_ident_part(key)
            )));
        }
    }
    for (key, value) in desired {
        if current.get(key) != Some(value) {
            out.push(Statement::plain(format!(
                "ALTER ROLE {role} SET {} TO {};",
                quote_ident_part(key),
                if quote_values {
                    quote_literal(value)
                } else {
                    value.clone()
                }
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_parse_and_reject_unknown_ones() {
        assert_eq!(
            parse_flags("createdb, NOSUPERUSER,LOGIN").unwrap(),
            vec![
                ("CREATEDB".to_string(), true),
                ("LOGIN".to_string(), true),
                ("SUPERUSER".to_string(), false)
            ]
        );
        assert_eq!(
            parse_flags("CREATEDB,FLY").unwrap_err(),
            "Invalid role_attr_flags specified: FLY"
        );
        assert!(parse_flags("").unwrap().is_empty());
    }

    #[test]
    fn scram_verifiers_match_postgresql() {
        // The integration test logs in with a verifier made here: the server accepts it.
        let salt = B64.decode("c2FsdHNhbHRzYWx0c2FsdA==").unwrap();
        let v = scram_verifier("secret", &salt, 4096);
        assert!(v.starts_with("SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$"));
        assert!(password_matches(
            Some(&v),
            "u",
            &Password::Clear("secret".into())
        ));
        assert!(!password_matches(
            Some(&v),
            "u",
            &Password::Clear("other".into())
        ));
        assert_eq!(Password::parse(&v), Password::Scram(v.clone()));
    }

    #[test]
    fn md5_verifiers_and_removal() {
        let v = md5_verifier("verysecretpassword", "JOE");
        assert_eq!(v.len(), 35);
        assert_eq!(Password::parse(&v), Password::Md5(v.clone()));
        assert!(password_matches(
            Some(&v),
            "JOE",
            &Password::Clear("verysecretpassword".into())
        ));
        assert!(password_matches(None, "JOE", &Password::Remove));
        assert!(!password_matches(Some(&v), "JOE", &Password::Remove));
        assert!(!password_matches(None, "JOE", &Password::Clear("x".into())));
    }

    #[test]
    fn statements_mask_the_password() {
        let spec = RoleSpec {
            name: "alice".into(),
            password: Some(Password::Clear("pw".into())),
            verifier: Some("SCRAM-SHA-256$4096:AA==$BB==:CC==".into()),
            flags: parse_flags("CREATEDB").unwrap(),
            expires: Some("infinity".into()),
            conn_limit: Some(5),
        };
        let create = create_statement(&spec);
        assert_eq!(
            create.shown,
            "CREATE USER \"alice\" WITH ENCRYPTED PASSWORD '********' VALID UNTIL 'infinity' CONNECTION LIMIT 5 CREATEDB"
        );
        assert!(create.sql.contains("'SCRAM-SHA-256$4096:AA==$BB==:CC=='"));
        let row = json!({"rolcreatedb": true, "rolconnlimit": 5, "expires_differs": false});
        let row = row.as_object().unwrap();
        let stored = scram_verifier("pw", b"0123456789abcdef", 4096);
        let same = role_changes(&spec, row, Some(Some(&stored)), true);
        assert!(!same.any());
        let changes = role_changes(&spec, row, None, true);
        assert!(changes.password && !changes.flags);
        assert_eq!(
            alter_statement(&spec, &changes, true).shown,
            "ALTER USER \"alice\" WITH ENCRYPTED PASSWORD '********' VALID UNTIL 'infinity' CONNECTION LIMIT 5 CREATEDB"
        );
        let flags_only = RoleChanges {
            flags: true,
            ..RoleChanges::default()
        };
        assert_eq!(
            alter_statement(&spec, &flags_only, true).shown,
            "ALTER USER \"alice\" WITH CREATEDB VALID UNTIL 'infinity' CONNECTION LIMIT 5"
        );
    }

    #[test]
    fn configuration_is_set_and_reset() {
        let current = parse_config(Some(&json!(["work_mem=8MB", "search_path=a, b"])));
        let desired = BTreeMap::from([("work_mem".to_string(), "16MB".to_string())]);
        let shown: Vec<String> = config_statements("u", &current, &desired, true, true)
            .into_iter()
            .map(|s| s.shown)
            .collect();
        assert_eq!(
            shown,
            vec![
                "ALTER ROLE \"u\" RESET \"search_path\";",
                "ALTER ROLE \"u\" SET \"work_mem\" TO '16MB';"
            ]
        );
        assert!(config_statements("u", &current, &BTreeMap::new(), false, true).is_empty());
    }
}
