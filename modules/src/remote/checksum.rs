//! Checksums: computed locally with `sha1` and on the target with coreutils' `*sum` tools.

use sha1::{Digest, Sha1};

pub use drover_core::probe::ChecksumAlgorithm;

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
