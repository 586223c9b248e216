//! A reader for the block-style subset of YAML that conform writes and that people write in case
//! files and recordings: block mappings and sequences, plain and quoted one-line scalars, `|` and
//! `>` block scalars, one-line flow collections, comments.
//!
//! It exists for speed alone. serde_yaml_ng (over libyaml) spends about 200 instructions a byte,
//! and every Rust YAML reader measured does much the same (`bench/yaml-readers`); a replay's start
//! from files never read before is nearly all YAML. This reader never decides what a document
//! means when it is unsure: anything outside the subset (anchors, aliases, tags, directives,
//! multi-line flow scalars, tabs, a plain scalar that could be read as a float, a duplicate key,
//! ...) makes [`read`] answer `None`, and the caller reads the file with serde_yaml_ng, which stays
//! the reference. Within the subset it builds the same tree serde_yaml_ng's events describe, and
//! [`super::subset_de`] hands it to serde as serde_yaml_ng's deserializer would, so a file read
//! either way gives the same value (`tests/it/yaml_subset.rs` checks this on every YAML file in
//! the repository and on generated documents).

use std::borrow::Cow;

/// A node of the tree: what libyaml's events describe, without positions.
#[derive(Clone, Debug, PartialEq)]
pub enum Node<'a> {
    Scalar(Scalar<'a>),
    Seq(Vec<Node<'a>>),
    /// Entries in document order; keys are scalars and never repeat.
    Map(Vec<(Scalar<'a>, Node<'a>)>),
}

/// A scalar's text and, for a plain scalar, what it resolves to (serde_yaml_ng's rules).
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar<'a> {
    pub text: Cow<'a, str>,
    /// `None` for a quoted or block scalar (always a string).
    pub plain: Option<Plain>,
}

/// What a plain scalar resolves to. Only values whose reading is beyond doubt are here: a plain
/// scalar that serde_yaml_ng might read as a float, or as an integer in another base or with a
/// sign or leading zero, is outside the subset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    Str,
}

/// Reads `source` when it is within the subset; `None` when it is not (or is not YAML at all).
pub fn read(source: &str) -> Option<Node<'_>> {
    let body = source.strip_suffix('\n')?;
    if !allowed_characters(source) {
        return None;
    }
    let mut lines: Vec<&str> = Vec::with_capacity(body.len() / 32);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body.as_bytes()) {
        lines.push(&body[start..end]);
        start = end + 1;
    }
    lines.push(&body[start..]);
    // A document marker (`---`, `...`) begins or ends a document wherever it stands.
    if lines
        .iter()
        .any(|l| l.starts_with("---") || l.starts_with("..."))
    {
        return None;
    }
    let mut reader = Reader {
        lines,
        at: 0,
        depth: 0,
    };
    reader.skip_blank();
    let first = *reader.lines.get(reader.at)?;
    let indent = indent_of(first);
    let node = if is_entry(&first[indent..]) {
        reader.seq(indent)?
    } else {
        reader.map(indent)?
    };
    reader.skip_blank();
    (reader.at == reader.lines.len()).then_some(node)
}

/// No tab, carriage return or other control character, no byte-order mark, none of the
/// characters libyaml takes as a line break (U+0085, U+2028, U+2029), none it refuses.
fn allowed_characters(source: &str) -> bool {
    let ascii_ok = |b: u8| b == b'\n' || (0x20..0x7f).contains(&b);
    if source.is_ascii() {
        // In blocks, without stopping at the first bad byte, so that the check vectorises.
        return source
            .as_bytes()
            .chunks(64)
            .all(|chunk| chunk.iter().fold(true, |ok, &b| ok & ascii_ok(b)));
    }
    source.chars().all(|c| {
        if c.is_ascii() {
            ascii_ok(c as u8)
        } else {
            !matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        }
    })
}

const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    /// The source's lines, without their line breaks.
    lines: Vec<&'a str>,
    /// The line being read.
    at: usize,
    depth: usize,
}

fn indent_of(line: &str) -> usize {
    line.bytes().take_while(|&b| b == b' ').count()
}

/// A line (from its indentation on) that starts a block sequence entry.
fn is_entry(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// A line holding only spaces and perhaps a comment.
fn is_blank(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// Nothing but spaces, or spaces and a comment: what may follow a value on its line.
fn is_trailer(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.len() < rest.len() && trimmed.starts_with('#'))
}

impl<'a> Reader<'a> {
    fn skip_blank(&mut self) {
        while self.at < self.lines.len() && is_blank(self.lines[self.at]) {
            self.at += 1;
        }
    }

    /// Where the next line that is not blank stands against column `indent` (its text from
    /// there on when it stands at it). Leaves `at` on that line.
    fn next_line(&mut self, indent: usize) -> Next<'a> {
        self.skip_blank();
        let Some(next) = self.lines.get(self.at) else {
            return Next::Done;
        };
        match indent_of(next).cmp(&indent) {
            std::cmp::Ordering::Less => Next::Done,
            std::cmp::Ordering::Equal => Next::Same(&next[indent..]),
            std::cmp::Ordering::Greater => Next::Deeper,
        }
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys sit at column `indent`, starting on the current line (whose
    /// first key may follow a sequence entry's `- `).
    fn map(&mut self, indent: usize) -> Option<Node<'a>> {
        self.deeper()?;
        let mut entries: Vec<(Scalar<'a>, Node<'a>)> = Vec::new();
        loop {
            let line = self.lines[self.at];
            let (key, rest) = key_of(&line[indent..])?;
            if key.plain.is_some() && key.text == "<<" {
                return None;
            }
            if repeats(&entries, &key) {
                return None;
            }
            let value = self.value_after(indent, rest, true)?;
            entries.push((key, value));
            match self.next_line(indent) {
                Next::Done => break,
                // A line indented past its mapping, or a sequence entry where a key belongs.
                Next::Deeper => return None,
                Next::Same(rest) if is_entry(rest) => return None,
                Next::Same(_) => {}
            }
        }
        self.depth -= 1;
        Some(Node::Map(entries))
    }

    /// A block sequence whose `-` marks sit at column `indent`, starting on the current line.
    fn seq(&mut self, indent: usize) -> Option<Node<'a>> {
        self.deeper()?;
        let mut items = Vec::new();
        loop {
            let line = self.lines[self.at];
            let rest = &line[indent..];
            debug_assert!(is_entry(rest));
            let after = &rest[1..];
            let spaces = indent_of(after);
            let item_rest = &after[spaces..];
            let item = if item_rest.is_empty() || item_rest.starts_with('#') {
                self.value_after(indent, item_rest, false)?
            } else if is_entry(item_rest) {
                return None;
            } else if key_of(item_rest).is_some() {
                let column = indent + 1 + spaces;
                self.map(column)?
            } else {
                self.value_after(indent, item_rest, false)?
            };
            items.push(item);
            match self.next_line(indent) {
                Next::Done => break,
                Next::Deeper => return None,
                // The mapping this sequence is the value of goes on (an indentless sequence);
                // the mapping checks that the line is one of its keys.
                Next::Same(rest) if !is_entry(rest) => break,
                Next::Same(_) => {}
            }
        }
        self.depth -= 1;
        Some(Node::Seq(items))
    }

    /// The value of a mapping entry or sequence entry whose key or `-` sits at column `indent`;
    /// `rest` is what follows the `:` or `- ` on the current line. Leaves `at` on the first line
    /// after the value. `in_map`: an indentless sequence may follow on the next lines.
    fn value_after(&mut self, indent: usize, rest: &'a str, in_map: bool) -> Option<Node<'a>> {
        let rest = rest.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with('#') {
            // The value is on the lines below, or there is none.
            self.at += 1;
            self.skip_blank();
            let Some(next) = self.lines.get(self.at) else {
                return Some(null());
            };
            let next_indent = indent_of(next);
            let next_rest = &next[next_indent..];
            if next_indent > indent {
                return if is_entry(next_rest) {
                    self.seq(next_indent)
                } else if key_of(next_rest).is_some() {
                    self.map(next_indent)
                } else {
                    None
                };
            }
            if next_indent == indent && in_map && is_entry(next_rest) {
                return self.seq(indent);
            }
            return Some(null());
        }
        let node = match rest.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(indent, rest),
            b'\'' | b'"' => {
                let (scalar, after) = quoted(rest)?;
                if !is_trailer(after) {
                    return None;
                }
                Node::Scalar(scalar)
            }
            b'{' | b'[' => {
                let mut flow = Flow {
                    rest,
                    depth: self.depth,
                };
                let node = flow.node()?;
                if !is_trailer(flow.rest) {
                    return None;
                }
                node
            }
            _ => Node::Scalar(plain_block(rest)?),
        };
        self.at += 1;
        // Whatever follows must not be indented past the entry: that would be a multi-line
        // scalar (or an error), both outside the subset.
        match self.next_line(indent) {
            Next::Deeper => None,
            Next::Done | Next::Same(_) => Some(node),
        }
    }

    /// A `|` or `>` block scalar whose header is `header`, for an entry at column `indent`.
    fn block_scalar(&mut self, indent: usize, header: &str) -> Option<Node<'a>> {
        let folded = header.starts_with('>');
        let (chomp, after) = match header.as_bytes().get(1) {
            Some(b'-') => (Chomp::Strip, &header[2..]),
            Some(b'+') => (Chomp::Keep, &header[2..]),
            _ => (Chomp::Clip, &header[1..]),
        };
        if !after.bytes().all(|b| b == b' ') {
            // An indentation indicator, or a comment after the header: outside the subset.
            return None;
        }
        self.at += 1;
        // The first line fixes the content's indentation; leading empty lines are outside.
        let first = *self.lines.get(self.at)?;
        let content_indent = indent_of(first);
        if content_indent == first.len() || content_indent <= indent {
            return None;
        }
        let mut text = String::new();
        // Empty lines seen since the last content line.
        let mut empty = 0usize;
        let mut any = false;
        while let Some(line) = self.lines.get(self.at) {
            let line_indent = indent_of(line);
            if line_indent == line.len() {
                if line_indent > content_indent {
                    return None;
                }
                empty += 1;
                self.at += 1;
                continue;
            }
            if line_indent < content_indent {
                break;
            }
            if line_indent > content_indent && folded {
                // More-indented lines fold by rules of their own.
                return None;
            }
            if any {
                if folded && empty == 0 {
                    text.push(' ');
                } else {
                    let breaks = if folded { empty } else { empty + 1 };
                    text.extend(std::iter::repeat_n('\n', breaks));
                }
            }
            text.push_str(&line[content_indent..]);
            any = true;
            empty = 0;
            self.at += 1;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => text.push('\n'),
            Chomp::Keep => text.extend(std::iter::repeat_n('\n', empty + 1)),
        }
        // The scalar ends at a line less indented than its content; a line between the entry
        // and the content would be an error, and outside the subset.
        if let Some(next) = self.lines.get(self.at)
            && indent_of(next) > indent
            && !is_blank(next)
        {
            return None;
        }
        Some(Node::Scalar(Scalar {
            text: Cow::Owned(text),
            plain: None,
        }))
    }
}

/// The next line after an entry, against the entry's column.
enum Next<'a> {
    /// No more lines, or one less indented: the collection ends.
    Done,
    /// A line at the column, from the column on.
    Same(&'a str),
    /// A line indented past the column.
    Deeper,
}

#[derive(Clone, Copy)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// Whether `key` is a key `entries` has already: the same text, or the same null, boolean or
/// integer however written (`~` and `null`, `true` and `True`).
fn repeats(entries: &[(Scalar<'_>, Node<'_>)], key: &Scalar<'_>) -> bool {
    let value = |s: &Scalar<'_>| s.plain.filter(|p| !matches!(p, Plain::Str));
    entries
        .iter()
        .any(|(k, _)| k.text == key.text || value(k).is_some_and(|v| Some(v) == value(key)))
}

fn null<'a>() -> Node<'a> {
    Node::Scalar(Scalar {
        text: Cow::Borrowed(""),
        plain: Some(Plain::Null),
    })
}

/// A block mapping key at the start of `line` and what follows its `: ` (or `:` at the end).
fn key_of(line: &str) -> Option<(Scalar<'_>, &str)> {
    match line.as_bytes().first()? {
        b'\'' | b'"' => {
            let (key, after) = quoted(line)?;
            let rest = after.strip_prefix(':')?;
            (rest.is_empty() || rest.starts_with(' ')).then_some((key, rest))
        }
        _ => {
            let bytes = line.as_bytes();
            let colon =
                positions(bytes, b':').find(|&i| i + 1 == bytes.len() || bytes[i + 1] == b' ')?;
            let text = line[..colon].trim_end_matches(' ');
            if spaced(text.as_bytes(), b'#').is_some() {
                return None;
            }
            let key = plain_scalar(text, false)?;
            Some((key, &line[colon + 1..]))
        }
    }
}

/// A plain scalar filling the rest of a line in block context (up to a comment).
fn plain_block(rest: &str) -> Option<Scalar<'_>> {
    let text = match spaced(rest.as_bytes(), b'#') {
        Some(i) => &rest[..i - 1],
        None => rest,
    };
    let text = text.trim_end_matches(' ');
    let bytes = text.as_bytes();
    if positions(bytes, b':').any(|i| i + 1 == bytes.len() || bytes[i + 1] == b' ') {
        return None;
    }
    plain_scalar(text, false)
}

/// Where `byte` occurs in `bytes`.
fn positions(bytes: &[u8], byte: u8) -> memchr::Memchr<'_> {
    memchr::memchr_iter(byte, bytes)
}

/// The first `byte` that follows a space (a comment's `#`, say).
fn spaced(bytes: &[u8], byte: u8) -> Option<usize> {
    positions(bytes, byte).find(|&i| i > 0 && bytes[i - 1] == b' ')
}

/// A plain scalar's text, checked and resolved; `None` when it starts with an indicator, or
/// when its reading is in any doubt.
fn plain_scalar(text: &str, flow: bool) -> Option<Scalar<'_>> {
    let first = *text.as_bytes().first()?;
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) && !is_integer(text) {
        return None;
    }
    if flow && text.bytes().any(|b| b"[]{},:#".contains(&b)) {
        return None;
    }
    Some(Scalar {
        text: Cow::Borrowed(text),
        plain: Some(resolve(text)?),
    })
}

/// serde_yaml_ng's reading of a plain scalar, where it is beyond doubt.
fn resolve(text: &str) -> Option<Plain> {
    Some(match text {
        "~" | "null" | "Null" | "NULL" => Plain::Null,
        "true" | "True" | "TRUE" => Plain::Bool(true),
        "false" | "False" | "FALSE" => Plain::Bool(false),
        _ if is_integer(text) => match text.strip_prefix('-') {
            Some(_) => Plain::I64(text.parse().ok()?),
            None => Plain::U64(text.parse().ok()?),
        },
        // Every other text serde_yaml_ng might read as a number (a float, another base, a sign
        // or leading zeros, `.inf`) is left to it; what remains is a string.
        _ if could_be_number(text) => return None,
        _ => Plain::Str,
    })
}

/// True for any text serde_yaml_ng's `visit_int` or `parse_f64` might take as a number (and for
/// a few it would not, such as `nan`): an integer in any base, perhaps signed, or whatever
/// Rust's float parser accepts.
fn could_be_number(text: &str) -> bool {
    // Rust's float parser takes digits, a sign, a point, or `inf`/`infinity`/`nan` in any case.
    if !matches!(
        text.as_bytes()[0],
        b'0'..=b'9' | b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'
    ) {
        return false;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let in_base = |prefix: &str, radix: u32| {
        unsigned
            .get(..2)
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            && unsigned.len() > 2
            && unsigned[2..]
                .chars()
                .all(|c| c == '+' || c == '-' || c.is_digit(radix))
    };
    in_base("0x", 16)
        || in_base("0o", 8)
        || in_base("0b", 2)
        || unsigned.eq_ignore_ascii_case(".inf")
        || unsigned.eq_ignore_ascii_case(".nan")
        || text.parse::<f64>().is_ok()
}

/// `0`, or a decimal integer of up to 18 digits without a leading zero, perhaps negative.
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits == "0" {
        return text == "0";
    }
    !digits.is_empty()
        && digits.len() <= 18
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A single- or double-quoted scalar at the start of `s`, closed on the same line, and the text
/// after its closing quote.
fn quoted(s: &str) -> Option<(Scalar<'_>, &str)> {
    let bytes = s.as_bytes();
    let quote = bytes[0];
    let mut owned: Option<String> = None;
    let mut i = 1;
    let mut run_start = 1;
    let end = loop {
        let b = *bytes.get(i)?;
        if quote == b'\'' && b == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                let text = owned.get_or_insert_with(String::new);
                text.push_str(&s[run_start..=i]);
                i += 2;
                run_start = i;
                continue;
            }
            break i;
        }
        if quote == b'"' && b == b'"' {
            break i;
        }
        if quote == b'"' && b == b'\\' {
            let text = owned.get_or_insert_with(String::new);
            text.push_str(&s[run_start..i]);
            let (c, len) = escape(&s[i + 1..])?;
            text.push(c);
            i += 1 + len;
            run_start = i;
            continue;
        }
        i += 1;
    };
    let text = match owned {
        Some(mut text) => {
            text.push_str(&s[run_start..end]);
            Cow::Owned(text)
        }
        None => Cow::Borrowed(&s[1..end]),
    };
    Some((Scalar { text, plain: None }, &s[end + 1..]))
}

/// A double-quoted scalar's escape (after the backslash): the character and the length taken.
fn escape(s: &str) -> Option<(char, usize)> {
    let c = *s.as_bytes().first()?;
    let simple = match c {
        b'0' => '\0',
        b'a' => '\u{7}',
        b'b' => '\u{8}',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\u{b}',
        b'f' => '\u{c}',
        b'r' => '\r',
        b'e' => '\u{1b}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' | b'u' | b'U' => {
            let len = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = s.get(1..1 + len)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let code = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(code)?, 1 + len));
        }
        _ => return None,
    };
    Some((simple, 1))
}

/// A flow collection on one line.
struct Flow<'a> {
    rest: &'a str,
    depth: usize,
}

impl<'a> Flow<'a> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start_matches(' ');
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.rest.as_bytes().first() == Some(&b) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    fn node(&mut self) -> Option<Node<'a>> {
        self.skip_spaces();
        match *self.rest.as_bytes().first()? {
            b'{' => self.map(),
            b'[' => self.seq(),
            _ => Some(Node::Scalar(self.scalar()?)),
        }
    }

    fn scalar(&mut self) -> Option<Scalar<'a>> {
        self.skip_spaces();
        match *self.rest.as_bytes().first()? {
            b'\'' | b'"' => {
                let (scalar, after) = quoted(self.rest)?;
                self.rest = after;
                Some(scalar)
            }
            _ => {
                let end = self
                    .rest
                    .find([',', ']', '}', ':', '#', '[', '{'])
                    .unwrap_or(self.rest.len());
                let text = self.rest[..end].trim_end_matches(' ');
                let scalar = plain_scalar(text, true)?;
                self.rest = &self.rest[end..];
                Some(scalar)
            }
        }
    }

    /// After an entry: `Some(true)` at the collection's `close`, `Some(false)` past a comma
    /// (another entry follows), `None` at anything else.
    fn closed(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        if self.eat(close) {
            Some(true)
        } else {
            self.eat(b',').then_some(false)
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn map(&mut self) -> Option<Node<'a>> {
        self.enter()?;
        self.rest = &self.rest[1..];
        let mut entries: Vec<(Scalar<'a>, Node<'a>)> = Vec::new();
        loop {
            self.skip_spaces();
            if entries.is_empty() && self.eat(b'}') {
                break;
            }
            let key = self.scalar()?;
            if (key.plain.is_some() && key.text == "<<") || repeats(&entries, &key) {
                return None;
            }
            self.skip_spaces();
            if !self.eat(b':') || !self.rest.starts_with(' ') {
                return None;
            }
            let value = self.node()?;
            entries.push((key, value));
            if self.closed(b'}')? {
                break;
            }
        }
        self.depth -= 1;
        Some(Node::Map(entries))
    }

    fn seq(&mut self) -> Option<Node<'a>> {
        self.enter()?;
        self.rest = &self.rest[1..];
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            if items.is_empty() && self.eat(b']') {
                break;
            }
            items.push(self.node()?);
            if self.closed(b']')? {
                break;
            }
        }
        self.depth -= 1;
        Some(Node::Seq(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Node<'_> {
        Node::Scalar(Scalar {
            text: Cow::Borrowed(text),
            plain: None,
        })
    }

    fn p(text: &str, plain: Plain) -> Node<'_> {
        Node::Scalar(Scalar {
            text: Cow::Borrowed(text),
            plain: Some(plain),
        })
    }

    fn key(text: &str) -> Scalar<'_> {
        Scalar {
            text: Cow::Borrowed(text),
            plain: Some(Plain::Str),
        }
    }

    #[test]
    fn reads_the_shapes_conform_writes() {
        let doc = "# header\nprovenance: modeled\nnote: >\n  one\n  two\n\n  three\nexchanges:\n- request:\n    status: 200\n    headers: { a: b, 'c': \"d\\n\" }\n    body: '{\"x\":''y''}'\n  list: [1, -2, x]\n";
        let got = read(doc).unwrap();
        let want = Node::Map(vec![
            (key("provenance"), p("modeled", Plain::Str)),
            (key("note"), s("one two\nthree\n")),
            (
                key("exchanges"),
                Node::Seq(vec![Node::Map(vec![
                    (
                        key("request"),
                        Node::Map(vec![
                            (key("status"), p("200", Plain::U64(200))),
                            (
                                key("headers"),
                                Node::Map(vec![
                                    (key("a"), p("b", Plain::Str)),
                                    (
                                        Scalar {
                                            text: Cow::Borrowed("c"),
                                            plain: None,
                                        },
                                        s("d\n"),
                                    ),
                                ]),
                            ),
                            (key("body"), s("{\"x\":'y'}")),
                        ]),
                    ),
                    (
                        key("list"),
                        Node::Seq(vec![
                            p("1", Plain::U64(1)),
                            p("-2", Plain::I64(-2)),
                            p("x", Plain::Str),
                        ]),
                    ),
                ])]),
            ),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn declines_what_it_cannot_be_sure_of() {
        for doc in [
            "a: 1.5\n",
            "a: 0x1f\n",
            "a: 012\n",
            "a: .inf\n",
            "a: 1e3\n",
            "a: +1\n",
            "a: 0b101\n",
            "a: nan\n",
            "a: &x b\n",
            "a: *x\n",
            "a: !tag b\n",
            "a: b\n  c\n",
            "a: 'b\n  c'\n",
            "a: b\na: c\n",
            "~: a\nnull: b\n",
            "true: a\nTrue: b\n",
            "k: { 'a': 1, a: 2 }\n",
            "a:\tb\n",
            "a: b",
            "---\na: b\n",
            "a: b\n... c: d\n",
            "a: |\n  x\n--- y\n",
            "a: >2\n   x\n",
            "a: >\n  x\n    y\n",
            "a: b: c\n",
            "a: [b, {c: d}\n",
            "- - a\n",
            "a: \"\\q\"\n",
            "<<: {a: b}\n",
            "plain\n",
        ] {
            assert_eq!(read(doc), None, "{doc:?}");
        }
    }

    #[test]
    fn text_that_only_looks_numeric_is_a_string() {
        // serde_yaml_ng reads these as strings too (no timestamps, no base prefix that parses).
        for text in [
            "2016-02-16",
            "0be6baa2-17b9",
            "4bd7f9fd",
            "1.1.1",
            "x-amz-json-1.1",
        ] {
            let doc = format!("a: {text}\n");
            assert_eq!(
                read(&doc),
                Some(Node::Map(vec![(key("a"), p(text, Plain::Str))])),
                "{doc:?}"
            );
        }
    }

    #[test]
    fn block_scalars_chomp_as_yaml_says() {
        let value = |doc: &'static str| match read(doc).unwrap() {
            Node::Map(mut e) => match e.remove(0).1 {
                Node::Scalar(s) => s.text.into_owned(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        assert_eq!(value("a: |\n  x\n\n  y\n\n\nb: c\n"), "x\n\ny\n");
        assert_eq!(value("a: |-\n  x\n\nb: c\n"), "x");
        assert_eq!(value("a: |+\n  x\n\n\nb: c\n"), "x\n\n\n");
        assert_eq!(value("a: >\n  x\n  y\n\n\n  z\n"), "x y\n\nz\n");
        assert_eq!(value("a: |\n  x\n    y\n"), "x\n  y\n");
    }
}
