//! Checksums: computed locally with `sha1` and on the target with coreutils' `*sum` tools.

use serde::Deserialize;
use sha1::{Digest, Sha1};

/// A checksum algorithm the target can compute with coreutils (`sha1sum`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    /// MD5 (`md5sum`).
    Md5,
    /// SHA-1 (`sha1sum`), Ansible's default.
    #[default]
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl ChecksumAlgorithm {
    /// The coreutils command computing this checksum.
    pub fn command(self) -> &'static str {
        match self {
            Self::Md5 => "md5sum",
            Self::Sha1 => "sha1sum",
            Self::Sha224 => "sha224sum",
            Self::Sha256 => "sha256sum",
            Self::Sha384 => "sha384sum",
            Self::Sha512 => "sha512sum",
        }
    }
}

/// Hex SHA-1 of `data`, as `sha1sum` prints it.
pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_coreutils() {
        assert_eq!(
            sha1_hex(b"new\n"),
            "389cc6b7ae5a659383eab5dfc253764eccf84732"
        );
    }
}
