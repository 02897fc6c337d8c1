//! SHA-crypt (`$5$` / `$6$`), the crypt(3) password hash format Ansible's `password_hash`
//! produces, implemented from Ulrich Drepper's published specification.

use sha2::{Digest, Sha256, Sha512};

const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Default number of rounds (omitted from the output when used).
pub(crate) const DEFAULT_ROUNDS: u32 = 5000;

/// Characters allowed in salts.
pub(crate) const SALT_CHARS: &[u8] = ITOA64;

/// Which SHA variant to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShaCrypt {
    /// `$5$`, SHA-256.
    Sha256,
    /// `$6$`, SHA-512.
    Sha512,
}

fn digest<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = D::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn core<D: Digest>(password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
    let hash_len = <D as Digest>::output_size();
    let b = digest::<D>(&[password, salt, password]);
    let mut a = D::new();
    a.update(password);
    a.update(salt);
    let mut remaining = password.len();
    while remaining > hash_len {
        a.update(&b);
        remaining -= hash_len;
    }
    a.update(&b[..remaining]);
    let mut n = password.len();
    while n > 0 {
        if n & 1 == 1 {
            a.update(&b);
        } else {
            a.update(password);
        }
        n >>= 1;
    }
    let a = a.finalize().to_vec();

    let mut dp = D::new();
    for _ in 0..password.len() {
        dp.update(password);
    }
    let dp = dp.finalize().to_vec();
    let p_seq: Vec<u8> = dp.iter().cycle().take(password.len()).copied().collect();

    let mut ds = D::new();
    for _ in 0..(16 + a[0] as usize) {
        ds.update(salt);
    }
    let ds = ds.finalize().to_vec();
    let s_seq: Vec<u8> = ds.iter().cycle().take(salt.len()).copied().collect();

    let mut c = a;
    for i in 0..rounds {
        let mut h = D::new();
        if i & 1 == 1 {
            h.update(&p_seq);
        } else {
            h.update(&c);
        }
        if i % 3 != 0 {
            h.update(&s_seq);
        }
        if i % 7 != 0 {
            h.update(&p_seq);
        }
        if i & 1 == 1 {
            h.update(&c);
        } else {
            h.update(&p_seq);
        }
        c = h.finalize().to_vec();
    }
    c
}

fn b64_from_24bit(out: &mut String, b2: u8, b1: u8, b0: u8, n: usize) {
    let mut w = ((b2 as u32) << 16) | ((b1 as u32) << 8) | b0 as u32;
    for _ in 0..n {
        out.push(ITOA64[(w & 0x3f) as usize] as char);
        w >>= 6;
    }
}

/// Hashes `password` with `salt` (at most 16 characters are used) and `rounds`
/// (clamped to 1000..=999999999), giving the full `$6$...` string.
pub(crate) fn sha_crypt(kind: ShaCrypt, password: &str, salt: &str, rounds: u32) -> String {
    let rounds = rounds.clamp(1000, 999_999_999);
    let salt: String = salt.chars().take(16).collect();
    let (prefix, hash) = match kind {
        ShaCrypt::Sha256 => (
            "$5$",
            core::<Sha256>(password.as_bytes(), salt.as_bytes(), rounds),
        ),
        ShaCrypt::Sha512 => (
            "$6$",
            core::<Sha512>(password.as_bytes(), salt.as_bytes(), rounds),
        ),
    };
    let mut out = String::from(prefix);
    if rounds != DEFAULT_ROUNDS {
        out.push_str(&format!("rounds={rounds}$"));
    }
    out.push_str(&salt);
    out.push('$');
    match kind {
        ShaCrypt::Sha512 => {
            const ORDER: [(usize, usize, usize); 21] = [
                (0, 21, 42),
                (22, 43, 1),
                (44, 2, 23),
                (3, 24, 45),
                (25, 46, 4),
                (47, 5, 26),
                (6, 27, 48),
                (28, 49, 7),
                (50, 8, 29),
                (9, 30, 51),
                (31, 52, 10),
                (53, 11, 32),
                (12, 33, 54),
                (34, 55, 13),
                (56, 14, 35),
                (15, 36, 57),
                (37, 58, 16),
                (59, 17, 38),
                (18, 39, 60),
                (40, 61, 19),
                (62, 20, 41),
            ];
            for (x, y, z) in ORDER {
                b64_from_24bit(&mut out, hash[x], hash[y], hash[z], 4);
            }
            b64_from_24bit(&mut out, 0, 0, hash[63], 2);
        }
        ShaCrypt::Sha256 => {
            const ORDER: [(usize, usize, usize); 10] = [
                (0, 10, 20),
                (21, 1, 11),
                (12, 22, 2),
                (3, 13, 23),
                (24, 4, 14),
                (15, 25, 5),
                (6, 16, 26),
                (27, 7, 17),
                (18, 28, 8),
                (9, 19, 29),
            ];
            for (x, y, z) in ORDER {
                b64_from_24bit(&mut out, hash[x], hash[y], hash[z], 4);
            }
            b64_from_24bit(&mut out, 0, hash[31], hash[30], 3);
        }
    }
    out
}

/// MD5-crypt (`$1$`), the BSD/Linux MD5 password hash.
pub(crate) fn md5_crypt(password: &str, salt: &str) -> String {
    let pw = password.as_bytes();
    let salt: String = salt.chars().take(8).collect();
    let s = salt.as_bytes();
    let alt = md5::compute([pw, s, pw].concat());
    let mut ctx = Vec::new();
    ctx.extend_from_slice(pw);
    ctx.extend_from_slice(b"$1$");
    ctx.extend_from_slice(s);
    let mut n = pw.len();
    while n > 0 {
        let take = n.min(16);
        ctx.extend_from_slice(&alt.0[..take]);
        n -= take;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.push(0);
        } else {
            ctx.push(pw.first().copied().unwrap_or(0));
        }
        i >>= 1;
    }
    let mut fin = md5::compute(&ctx).0;
    for r in 0..1000 {
        let mut c = Vec::new();
        if r & 1 == 1 {
            c.extend_from_slice(pw);
        } else {
            c.extend_from_slice(&fin);
        }
        if r % 3 != 0 {
            c.extend_from_slice(s);
        }
        if r % 7 != 0 {
            c.extend_from_slice(pw);
        }
        if r & 1 == 1 {
            c.extend_from_slice(&fin);
        } else {
            c.extend_from_slice(pw);
        }
        fin = md5::compute(&c).0;
    }
    let mut out = format!("$1${salt}$");
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        b64_from_24bit(&mut out, fin[a], fin[b], fin[c], 4);
    }
    b64_from_24bit(&mut out, 0, 0, fin[11], 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors checked against glibc crypt(3).
    #[test]
    fn specification_vectors() {
        assert_eq!(
            sha_crypt(ShaCrypt::Sha512, "Hello world!", "saltstring", 5000),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
        assert_eq!(
            sha_crypt(ShaCrypt::Sha256, "Hello world!", "saltstring", 5000),
            "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
        assert_eq!(
            sha_crypt(ShaCrypt::Sha512, "Hello world!", "saltstringsaltstring", 10000),
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
        );
    }
}
