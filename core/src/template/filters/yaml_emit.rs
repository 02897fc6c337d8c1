//! A YAML emitter that writes what PyYAML's `yaml.dump` writes for JSON-like data (the
//! `to_yaml`/`to_nice_yaml` filters): block or flow style, sorted keys, indentation with
//! indentless sequences under mappings, PyYAML's choice of plain/single/double-quoted scalars
//! and folding of long scalars at the line width.

use minijinja::value::{Value, ValueKind};
use minijinja::Error;

use crate::template::convert::{key_to_string, py_float};

/// Emitter settings.
pub(crate) struct YamlStyle {
    /// Spaces per nesting level.
    pub indent: usize,
    /// Sort mapping keys.
    pub sort_keys: bool,
    /// Preferred line width for folding scalars.
    pub width: usize,
    /// `Some(true)`: flow everywhere; `Some(false)`: block everywhere; `None`: flow for
    /// collections holding only scalars (PyYAML's default).
    pub default_flow_style: Option<bool>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Scalar,
    Seq,
    Map,
}

fn kind(v: &Value) -> Kind {
    match v.kind() {
        ValueKind::Seq | ValueKind::Iterable => Kind::Seq,
        ValueKind::Map => Kind::Map,
        _ => Kind::Scalar,
    }
}

struct Emitter<'a> {
    out: String,
    style: &'a YamlStyle,
}

impl Emitter<'_> {
    fn column(&self) -> usize {
        self.out.len() - self.out.rfind('\n').map_or(0, |i| i + 1)
    }

    fn newline_indent(&mut self, indent: usize) {
        self.out.push('\n');
        self.out.push_str(&" ".repeat(indent));
    }

    fn entries(&self, v: &Value) -> Result<Vec<(Value, Value)>, Error> {
        let mut keys: Vec<Value> = v.try_iter()?.collect();
        if self.style.sort_keys {
            keys.sort_by_key(key_to_string);
        }
        keys.into_iter()
            .map(|k| {
                let val = v.get_item(&k)?;
                Ok((k, val))
            })
            .collect()
    }

    fn use_flow(&self, v: &Value) -> Result<bool, Error> {
        let flow = match self.style.default_flow_style {
            Some(f) => f,
            None => {
                let children: Vec<Value> = match kind(v) {
                    Kind::Seq => v.try_iter()?.collect(),
                    Kind::Map => self.entries(v)?.into_iter().map(|(_, x)| x).collect(),
                    Kind::Scalar => return Ok(false),
                };
                children.iter().all(|c| kind(c) == Kind::Scalar)
            }
        };
        Ok(flow || is_empty(v))
    }

    /// Writes a scalar or a flow collection at the current position.
    fn node(
        &mut self,
        v: &Value,
        indent: usize,
        flow: bool,
        _in_seq: bool,
        _in_map: bool,
    ) -> Result<(), Error> {
        match kind(v) {
            Kind::Scalar => {
                let s = scalar(v);
                self.write_scalar(&s, indent, flow, false);
            }
            k => self.flow(v, k, indent)?,
        }
        Ok(())
    }

    /// A block collection that is an item of a block sequence whose dash is at `dash_col`.
    fn node_in_seq(&mut self, v: &Value, dash_col: usize) -> Result<(), Error> {
        let indent = dash_col + self.style.indent;
        match kind(v) {
            Kind::Seq => self.seq_body(v, indent),
            Kind::Map => self.map_body(v, indent),
            Kind::Scalar => self.node(v, indent, false, true, false),
        }
    }

    fn seq_body(&mut self, v: &Value, indent: usize) -> Result<(), Error> {
        let items: Vec<Value> = v.try_iter()?.collect();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.out.push('-');
            if kind(item) == Kind::Scalar || self.use_flow(item)? {
                self.out.push(' ');
                self.node(item, indent + self.style.indent, false, true, false)?;
            } else {
                self.out.push_str(&" ".repeat(self.style.indent - 1));
                self.node_in_seq(item, indent)?;
            }
        }
        Ok(())
    }

    fn map_body(&mut self, v: &Value, indent: usize) -> Result<(), Error> {
        for (i, (k, val)) in self.entries(v)?.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            let key = scalar(k);
            self.write_scalar(&key, indent, false, true);
            self.out.push(':');
            let child = indent + self.style.indent;
            if kind(val) == Kind::Scalar || self.use_flow(val)? {
                self.out.push(' ');
                self.node(val, child, false, false, true)?;
            } else if kind(val) == Kind::Seq {
                self.newline_indent(indent);
                self.seq_body(val, indent)?;
            } else {
                self.newline_indent(child);
                self.map_body(val, child)?;
            }
        }
        Ok(())
    }

    fn flow(&mut self, v: &Value, k: Kind, indent: usize) -> Result<(), Error> {
        match k {
            Kind::Seq => {
                self.out.push('[');
                let items: Vec<Value> = v.try_iter()?.collect();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.flow_space(indent);
                    }
                    self.node(item, indent, true, false, false)?;
                }
                self.out.push(']');
            }
            _ => {
                self.out.push('{');
                for (i, (key, val)) in self.entries(v)?.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.flow_space(indent);
                    }
                    self.write_scalar(&scalar(key), indent, true, true);
                    self.out.push_str(": ");
                    self.node(val, indent, true, false, false)?;
                }
                self.out.push('}');
            }
        }
        Ok(())
    }

    fn flow_space(&mut self, indent: usize) {
        if self.column() > self.style.width {
            self.newline_indent(indent);
        } else {
            self.out.push(' ');
        }
    }

    fn write_scalar(&mut self, s: &Scalar, indent: usize, flow: bool, simple_key: bool) {
        match s {
            Scalar::Raw(text) => self.out.push_str(text),
            Scalar::Str(text) => {
                let a = analyze(text);
                let plain_ok = if flow {
                    a.allow_flow_plain
                } else {
                    a.allow_block_plain
                };
                if plain_ok
                    && !text.is_empty()
                    && resolves_to_str(text)
                    && !(simple_key && a.multiline)
                {
                    self.write_folded(text, indent, false);
                } else if a.allow_single && !(simple_key && a.multiline) {
                    self.write_single(text, indent);
                } else {
                    self.write_double(text);
                }
            }
        }
    }

    fn write_folded(&mut self, text: &str, indent: usize, _quoted: bool) {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let single = chars.get(i + 1) != Some(&' ') && (i == 0 || chars[i - 1] != ' ');
                if single && i != 0 && i + 1 != chars.len() && self.column() > self.style.width {
                    self.newline_indent(indent);
                } else {
                    self.out.push(' ');
                }
            } else {
                self.out.push(c);
            }
            i += 1;
        }
    }

    fn write_single(&mut self, text: &str, indent: usize) {
        self.out.push('\'');
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\'' => self.out.push_str("''"),
                '\n' => {
                    // a run of line breaks: one extra break, then each break, then the indent
                    let mut j = i;
                    while j < chars.len() && chars[j] == '\n' {
                        j += 1;
                    }
                    if i == 0 || chars[i - 1] != '\n' {
                        self.out.push('\n');
                    }
                    for _ in i..j {
                        self.out.push('\n');
                    }
                    self.out.pop();
                    self.out.push('\n');
                    self.out.push_str(&" ".repeat(indent));
                    i = j;
                    continue;
                }
                ' ' => {
                    let single = chars.get(i + 1) != Some(&' ') && (i == 0 || chars[i - 1] != ' ');
                    if single && i != 0 && i + 1 != chars.len() && self.column() > self.style.width
                    {
                        self.newline_indent(indent);
                    } else {
                        self.out.push(' ');
                    }
                }
                c => self.out.push(c),
            }
            i += 1;
        }
        self.out.push('\'');
    }

    fn write_double(&mut self, text: &str) {
        self.out.push('"');
        for c in text.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\0' => self.out.push_str("\\0"),
                '\u{7}' => self.out.push_str("\\a"),
                '\u{8}' => self.out.push_str("\\b"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\u{b}' => self.out.push_str("\\v"),
                '\u{c}' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                '\u{1b}' => self.out.push_str("\\e"),
                '\u{85}' => self.out.push_str("\\N"),
                '\u{a0}' => self.out.push_str("\\_"),
                c if !printable(c) => {
                    let n = c as u32;
                    if n <= 0xff {
                        self.out.push_str(&format!("\\x{n:02X}"));
                    } else if n <= 0xffff {
                        self.out.push_str(&format!("\\u{n:04X}"));
                    } else {
                        self.out.push_str(&format!("\\U{n:08X}"));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

fn is_empty(v: &Value) -> bool {
    kind(v) != Kind::Scalar && v.len() == Some(0)
}

enum Scalar {
    Raw(String),
    Str(String),
}

fn scalar(v: &Value) -> Scalar {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => Scalar::Raw("null".into()),
        ValueKind::Bool => Scalar::Raw(if v.is_true() { "true" } else { "false" }.into()),
        ValueKind::Number if v.is_integer() => Scalar::Raw(v.to_string()),
        ValueKind::Number => {
            let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
            Scalar::Raw(yaml_float(f))
        }
        ValueKind::String => Scalar::Str(v.as_str().unwrap_or_default().to_string()),
        _ => Scalar::Str(crate::template::convert::py_str(v)),
    }
}

/// PyYAML's float representation (`1.0`, `1.0e+20`, `.inf`, `.nan`).
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let r = py_float(f);
    if r.contains('e') && !r.contains('.') {
        // PyYAML inserts ".0" before the exponent
        if let Some(i) = r.find('e') {
            return format!("{}.0{}", &r[..i], &r[i..]);
        }
    }
    r
}

fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
        && c != '\u{feff}'
}

struct Analysis {
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single: bool,
}

/// PyYAML's `analyze_scalar`.
fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single: true,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    if text.starts_with("---") || text.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut previous_space = false;
    let mut previous_break = false;
    for (index, &ch) in chars.iter().enumerate() {
        let next = chars.get(index + 1).copied();
        let followed_by_whitespace =
            next.is_none_or(|n| " \t\r\n\u{85}\u{2028}\u{2029}".contains(n));
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_indicators = true;
                block_indicators = true;
            }
            if ch == '?' || ch == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if ch == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(ch) {
                flow_indicators = true;
            }
            if ch == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if ch == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if "\n\u{85}\u{2028}\u{2029}".contains(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || ('\u{20}'..='\u{7e}').contains(&ch)) {
            if printable(ch) && ch != '\u{feff}' {
                // unicode allowed (allow_unicode=True)
            } else {
                special = true;
            }
        }
        if ch == ' ' {
            if index == 0 {
                leading_space = true;
            }
            if index == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if "\n\u{85}\u{2028}\u{2029}".contains(ch) {
            if index == 0 {
                leading_break = true;
            }
            if index == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = " \t\r\n\u{85}\u{2028}\u{2029}".contains(ch);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        allow_flow_plain: true,
        allow_block_plain: true,
        allow_single: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if trailing_space {
        a.allow_single = true;
    }
    if space_break || special {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
        a.allow_single = false;
    }
    if line_breaks {
        a.allow_flow_plain = false;
        a.allow_block_plain = false;
    }
    if flow_indicators {
        a.allow_flow_plain = false;
    }
    if block_indicators {
        a.allow_block_plain = false;
    }
    let _ = break_space;
    a
}

/// True if PyYAML's resolver reads the plain text back as a string.
fn resolves_to_str(s: &str) -> bool {
    use std::sync::LazyLock;
    static NON_STR: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(concat!(
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            r"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+|<<|~|null|Null|NULL|=",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])$"
        ))
        .expect("static regex")
    });
    !NON_STR.is_match(s)
}

/// Dumps a value as YAML the way PyYAML does; the document ends with a newline.
pub(crate) fn emit_yaml(v: &Value, style: &YamlStyle) -> Result<String, Error> {
    let mut e = Emitter {
        out: String::new(),
        style,
    };
    match kind(v) {
        Kind::Scalar => {
            let s = scalar(v);
            e.write_scalar(&s, 0, false, false);
        }
        k if e.use_flow(v)? => e.flow(v, k, 0)?,
        Kind::Seq => e.seq_body(v, 0)?,
        Kind::Map => e.map_body(v, 0)?,
    }
    e.out.push('\n');
    Ok(e.out)
}
