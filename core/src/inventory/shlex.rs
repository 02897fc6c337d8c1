//! Splitting INI host lines into words like Python's `shlex.split(line, comments=True)`
//! (POSIX mode), which Ansible's INI inventory uses.

/// Splits `line` into words: whitespace separates words, `'...'` and `"..."` quote (the quotes
/// are removed), backslash escapes outside single quotes, and `#` starts a comment even inside a
/// word. Fails on an unterminated quote or a trailing backslash.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    split_words(line, true)
}

/// Splits `line` like Python's `shlex.split(line)` (POSIX mode, no comments: `#` is an ordinary
/// character), as community.docker reads command lines.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    split_words(line, false)
}

fn split_words(line: &str, comments: bool) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if comments => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("no closing quotation (')".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err("no closing quotation (\")".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("no closing quotation (\")".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(e) => word.push(e),
                    None => return Err("no character after the final backslash".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(
            split(r#"web1 a="b c" d='e f' g=h#comment i=j"#).unwrap(),
            ["web1", "a=b c", "d=e f", "g=h"]
        );
        assert_eq!(
            split(r#"x="say \"hi\" \n" y=a\ b"#).unwrap(),
            ["x=say \"hi\" \\n", "y=a b"]
        );
        assert_eq!(split("h e=''").unwrap(), ["h", "e="]);
        assert_eq!(split("h '' # c").unwrap(), ["h", ""]);
        assert_eq!(split("  # only a comment").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn unterminated_quotes_fail() {
        assert!(split("h a='x").is_err());
        assert!(split("h a=\"x").is_err());
        assert!(split("h a=\\").is_err());
    }
}
