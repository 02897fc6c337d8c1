//! `template`'s `output_encoding`: the rendered text re-encoded as Python's `str.encode` would.
//!
//! WHATWG encodings (the `windows-125x`, ISO-8859, KOI8, Shift_JIS, EUC, GBK, Big5 families) come
//! from `encoding_rs`, the encoder Firefox uses; the few codecs whose Python meaning differs from
//! their WHATWG label (`latin-1` and `ascii` are not `windows-1252`, UTF-16/32 need Python's BOM
//! rules) are written out here.

use encoding_rs::Encoding;

/// Why text could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// No codec of that name.
    #[error("unknown encoding: {0}")]
    Unknown(String),
    /// A character the codec cannot represent (Python raises `UnicodeEncodeError`).
    #[error("'{codec}' codec can't encode character {ch:?}")]
    Unmappable {
        /// The codec asked for.
        codec: String,
        /// The first character that has no encoding.
        ch: char,
    },
}

/// Encodes `text` with the Python codec named `name` (empty means UTF-8, as Ansible's default).
pub fn encode(text: &str, name: &str) -> Result<Vec<u8>, EncodeError> {
    let norm = name.trim().to_ascii_lowercase().replace('_', "-");
    let limited = |max: u32| -> Result<Vec<u8>, EncodeError> {
        text.chars()
            .map(|c| {
                u8::try_from(u32::from(c))
                    .ok()
                    .filter(|b| u32::from(*b) <= max)
                    .ok_or(EncodeError::Unmappable {
                        codec: name.to_string(),
                        ch: c,
                    })
            })
            .collect()
    };
    let units16 = |be: bool, bom: bool| {
        let mut out = Vec::new();
        let mut push = |u: u16| out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        if bom {
            push(0xFEFF);
        }
        text.encode_utf16().for_each(&mut push);
        out
    };
    let units32 = |be: bool, bom: bool| {
        let mut out = Vec::new();
        let mut push = |u: u32| out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        if bom {
            push(0xFEFF);
        }
        text.chars().map(u32::from).for_each(&mut push);
        out
    };
    match norm.as_str() {
        "" | "utf-8" | "utf8" | "u8" => Ok(text.as_bytes().to_vec()),
        "utf-8-sig" => Ok([&[0xEF, 0xBB, 0xBF], text.as_bytes()].concat()),
        "ascii" | "us-ascii" | "646" => limited(0x7F),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "8859" | "l1" | "cp819" => {
            limited(0xFF)
        }
        // Python writes UTF-16/32 in the machine's order (little-endian here) behind a BOM.
        "utf-16" | "utf16" => Ok(units16(false, true)),
        "utf-16-le" | "utf-16le" => Ok(units16(false, false)),
        "utf-16-be" | "utf-16be" => Ok(units16(true, false)),
        "utf-32" | "utf32" => Ok(units32(false, true)),
        "utf-32-le" | "utf-32le" => Ok(units32(false, false)),
        "utf-32-be" | "utf-32be" => Ok(units32(true, false)),
        _ => {
            let label = norm.strip_prefix("cp").map_or(norm.clone(), |n| {
                if n.starts_with("125") {
                    format!("windows-{n}")
                } else {
                    norm.clone()
                }
            });
            let enc = Encoding::for_label_no_replacement(label.as_bytes())
                .filter(|e| e.output_encoding() == *e)
                .ok_or_else(|| EncodeError::Unknown(name.to_string()))?;
            let mut encoder = enc.new_encoder();
            let mut out = Vec::with_capacity(
                encoder
                    .max_buffer_length_from_utf8_without_replacement(text.len())
                    .unwrap_or(text.len() * 4),
            );
            let (result, _) =
                encoder.encode_from_utf8_to_vec_without_replacement(text, &mut out, true);
            match result {
                encoding_rs::EncoderResult::InputEmpty => Ok(out),
                encoding_rs::EncoderResult::Unmappable(ch) => Err(EncodeError::Unmappable {
                    codec: name.to_string(),
                    ch,
                }),
                // The buffer was sized for the worst case; running out means no usable codec.
                encoding_rs::EncoderResult::OutputFull => {
                    Err(EncodeError::Unknown(name.to_string()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_utf8_are_utf8() {
        assert_eq!(encode("é€", "").unwrap(), "é€".as_bytes());
        assert_eq!(encode("é€", "UTF-8").unwrap(), "é€".as_bytes());
    }

    #[test]
    fn windows_1252_encodes_euro_and_accents() {
        assert_eq!(encode("é€", "windows-1252").unwrap(), vec![0xE9, 0x80]);
        assert_eq!(encode("é€", "cp1252").unwrap(), vec![0xE9, 0x80]);
    }

    #[test]
    fn latin1_is_not_windows_1252() {
        assert_eq!(encode("é", "latin-1").unwrap(), vec![0xE9]);
        assert!(matches!(
            encode("€", "latin-1"),
            Err(EncodeError::Unmappable { ch: '€', .. })
        ));
        assert!(encode("é", "ascii").is_err());
    }

    #[test]
    fn unmappable_and_unknown_fail() {
        assert!(matches!(
            encode("ā", "windows-1252"),
            Err(EncodeError::Unmappable { ch: 'ā', .. })
        ));
        assert_eq!(
            encode("x", "no-such-codec"),
            Err(EncodeError::Unknown("no-such-codec".into()))
        );
    }

    #[test]
    fn utf16_has_a_bom() {
        assert_eq!(encode("a", "utf-16").unwrap(), vec![0xFF, 0xFE, b'a', 0]);
        assert_eq!(encode("a", "utf-16-be").unwrap(), vec![0, b'a']);
    }
}
