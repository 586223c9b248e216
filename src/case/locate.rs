//! Finding where a value sits in a YAML file, for errors found after parsing (an undefined
//! variable, a bad regex, a semantic rule). Only runs when there is an error to report, so it
//! costs nothing on a good suite.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use crate::matching::Seg;

/// 1-based line and column of the value at `path`, or of the deepest ancestor found.
pub fn locate(source: &str, path: &[Seg]) -> (usize, usize) {
    let mut parser = Parser::new_from_str(source);
    let mut best = (1, 1);
    loop {
        match parser.next_token() {
            Ok((Event::StreamStart | Event::DocumentStart, _)) => continue,
            Ok((event, marker)) => {
                descend(&mut parser, event, marker, path, &mut best);
                return best;
            }
            Err(_) => return best,
        }
    }
}

/// The 1-based line and column of every item of the sequence at `path`, in one pass over the
/// file (`locate` for each item would read the file once per item). Empty when there is no
/// sequence there.
pub fn item_positions(source: &str, path: &[Seg]) -> Vec<(usize, usize)> {
    let mut parser = Parser::new_from_str(source);
    let sequence = loop {
        match parser.next_token() {
            Ok((Event::StreamStart | Event::DocumentStart, _)) => continue,
            Ok((event, marker)) if path.is_empty() => break Some((event, marker)),
            Ok((event, marker)) => break find(&mut parser, event, marker, path),
            Err(_) => break None,
        }
    };
    let mut out = Vec::new();
    if let Some((Event::SequenceStart(..), _)) = sequence {
        while let Ok((item, marker)) = parser.next_token() {
            if matches!(item, Event::SequenceEnd) {
                break;
            }
            out.push(pos(&marker));
            if skip(&mut parser, item).is_none() {
                break;
            }
        }
    }
    out
}

/// Like `descend`, but hands back the event that starts the value at `path` instead of its
/// position, with the parser just past it.
fn find(
    p: &mut Parser<std::str::Chars<'_>>,
    event: Event,
    marker: Marker,
    path: &[Seg],
) -> Option<(Event, Marker)> {
    let Some((first, rest)) = path.split_first() else {
        return Some((event, marker));
    };
    match (event, first) {
        (Event::MappingStart(..), Seg::Key(want)) => loop {
            let (key, _) = p.next_token().ok()?;
            let key_text = match &key {
                Event::MappingEnd => return None,
                Event::Scalar(s, ..) => Some(s.clone()),
                _ => None,
            };
            if key_text.is_none() {
                skip(p, key)?;
            }
            let (value, value_marker) = p.next_token().ok()?;
            if key_text.as_deref() == Some(want.as_str()) {
                return find(p, value, value_marker, rest);
            }
            skip(p, value)?;
        },
        (Event::SequenceStart(..), Seg::Index(want)) => {
            let mut i = 0;
            loop {
                let (item, item_marker) = p.next_token().ok()?;
                if matches!(item, Event::SequenceEnd) {
                    return None;
                }
                if i == *want {
                    return find(p, item, item_marker, rest);
                }
                skip(p, item)?;
                i += 1;
            }
        }
        _ => None,
    }
}

fn pos(m: &Marker) -> (usize, usize) {
    (m.line().max(1), m.col() + 1)
}

fn descend(
    p: &mut Parser<std::str::Chars<'_>>,
    event: Event,
    marker: Marker,
    path: &[Seg],
    best: &mut (usize, usize),
) -> Option<()> {
    let Some((first, rest)) = path.split_first() else {
        *best = pos(&marker);
        return Some(());
    };
    match (event, first) {
        (Event::MappingStart(..), Seg::Key(want)) => loop {
            let (key, key_marker) = p.next_token().ok()?;
            let key_text = match &key {
                Event::MappingEnd => return None,
                Event::Scalar(s, ..) => Some(s.clone()),
                _ => None,
            };
            if key_text.is_none() {
                skip(p, key)?;
            }
            let (value, value_marker) = p.next_token().ok()?;
            if key_text.as_deref() == Some(want.as_str()) {
                if rest.is_empty() {
                    // Point at the value when it is on the key's line, else at the key.
                    *best = if value_marker.line() == key_marker.line() {
                        pos(&value_marker)
                    } else {
                        pos(&key_marker)
                    };
                    return Some(());
                }
                *best = pos(&key_marker);
                return descend(p, value, value_marker, rest, best);
            }
            skip(p, value)?;
        },
        (Event::SequenceStart(..), Seg::Index(want)) => {
            let mut i = 0;
            loop {
                let (item, item_marker) = p.next_token().ok()?;
                if matches!(item, Event::SequenceEnd) {
                    return None;
                }
                if i == *want {
                    *best = pos(&item_marker);
                    return descend(p, item, item_marker, rest, best);
                }
                skip(p, item)?;
                i += 1;
            }
        }
        _ => None,
    }
}

/// Consumes the rest of a node whose first event is `event`.
fn skip(p: &mut Parser<std::str::Chars<'_>>, event: Event) -> Option<()> {
    let mut depth = match event {
        Event::MappingStart(..) | Event::SequenceStart(..) => 1,
        _ => 0,
    };
    while depth > 0 {
        match p.next_token().ok()?.0 {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth -= 1,
            Event::StreamEnd => return None,
            _ => {}
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let src = "name: x\nexpect:\n  body:\n    a: [1, {regex: '('}]\n  status: 200\n";
        let path = [
            Seg::Key("expect".into()),
            Seg::Key("body".into()),
            Seg::Key("a".into()),
            Seg::Index(1),
            Seg::Key("regex".into()),
        ];
        assert_eq!(locate(src, &path), (4, 20));
        assert_eq!(
            locate(src, &[Seg::Key("expect".into()), Seg::Key("status".into())]),
            (5, 11)
        );
        assert_eq!(
            item_positions(
                src,
                &[
                    Seg::Key("expect".into()),
                    Seg::Key("body".into()),
                    Seg::Key("a".into())
                ]
            ),
            [(4, 9), (4, 12)]
        );
        assert_eq!(
            item_positions(
                "items:\n  - a: 1\n    b: [2]\n  - c\n",
                &[Seg::Key("items".into())]
            ),
            [(2, 6), (4, 5)]
        );
        assert!(item_positions(src, &[Seg::Key("name".into())]).is_empty());
        // A path that does not exist points at the deepest part that does.
        assert_eq!(
            locate(src, &[Seg::Key("expect".into()), Seg::Key("nope".into())]),
            (2, 1)
        );
    }
}
