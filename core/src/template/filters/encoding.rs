//! Encoding and hashing filters: b64encode, b64decode, hash, checksum, md5, sha1,
//! password_hash.

use base64::Engine as _;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};
use rand::Rng;

use super::{fail, text};
use crate::template::crypt::{sha_crypt, ShaCrypt, SALT_CHARS};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("b64encode", |v: Value| {
        Value::from(base64::engine::general_purpose::STANDARD.encode(text(&v)))
    });
    env.add_filter("b64decode", |v: Value| -> Result<Value, Error> {
        let s = text(&v);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| fail(format!("b64decode: {e}")))?;
        Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
    });
    env.add_filter(
        "hash",
        |v: Value, algo: Option<String>| -> Result<Value, Error> {
            digest(&text(&v), algo.as_deref().unwrap_or("sha1")).map(Value::from)
        },
    );
    env.add_filter("checksum", |v: Value| -> Result<Value, Error> {
        digest(&text(&v), "sha1").map(Value::from)
    });
    env.add_filter("sha1", |v: Value| -> Result<Value, Error> {
        digest(&text(&v), "sha1").map(Value::from)
    });
    env.add_filter("md5", |v: Value| -> Result<Value, Error> {
        digest(&text(&v), "md5").map(Value::from)
    });
    env.add_filter("password_hash", password_hash);
}

/// The hex digest of `s` with a hashlib algorithm name.
pub(crate) fn digest(s: &str, algo: &str) -> Result<String, Error> {
    use sha2::Digest;
    Ok(match algo {
        "sha1" => hex::encode(sha1::Sha1::digest(s.as_bytes())),
        "md5" => format!("{:x}", md5::compute(s.as_bytes())),
        "sha224" => hex::encode(sha2::Sha224::digest(s.as_bytes())),
        "sha256" => hex::encode(sha2::Sha256::digest(s.as_bytes())),
        "sha384" => hex::encode(sha2::Sha384::digest(s.as_bytes())),
        "sha512" => hex::encode(sha2::Sha512::digest(s.as_bytes())),
        other => return Err(fail(format!("hash: unsupported hash type '{other}'"))),
    })
}

/// `password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None)`.
fn password_hash(
    v: Value,
    hashtype: Option<String>,
    salt: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let hashtype = match hashtype {
        Some(h) => h,
        None => kwargs
            .get::<Option<String>>("hashtype")?
            .unwrap_or_else(|| "sha512".into()),
    };
    let salt = match salt {
        Some(s) if !s.is_none() => Some(text(&s)),
        _ => kwargs.get::<Option<String>>("salt")?,
    };
    let rounds: Option<u32> = kwargs.get("rounds")?;
    let salt_size: Option<usize> = kwargs.get("salt_size")?;
    let _: Option<String> = kwargs.get("ident")?;
    kwargs.assert_all_used()?;
    let password = text(&v);
    let (kind, default_rounds, default_salt) = match hashtype.as_str() {
        "sha512" | "sha512_crypt" => (Some(ShaCrypt::Sha512), 656_000, 16),
        "sha256" | "sha256_crypt" => (Some(ShaCrypt::Sha256), 535_000, 16),
        "md5" | "md5_crypt" => (None, 0, 8),
        other => {
            return Err(fail(format!(
                "password_hash: unsupported hash type '{other}'"
            )))
        }
    };
    let salt = salt.unwrap_or_else(|| random_salt(salt_size.unwrap_or(default_salt)));
    if let Some(bad) = salt
        .chars()
        .find(|c| !SALT_CHARS.contains(&(*c as u8)) || !c.is_ascii())
    {
        return Err(fail(format!(
            "password_hash: invalid character '{bad}' in salt"
        )));
    }
    Ok(Value::from(match kind {
        Some(k) => sha_crypt(k, &password, &salt, rounds.unwrap_or(default_rounds)),
        None => crate::template::crypt::md5_crypt(&password, &salt),
    }))
}

fn random_salt(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| SALT_CHARS[rng.random_range(0..SALT_CHARS.len())] as char)
        .collect()
}
