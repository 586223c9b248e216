//! serde's view of a [`subset`](super::subset) tree: each method answers as serde_yaml_ng's
//! deserializer answers for the same events (its `de.rs`), so that a type reads the same value
//! from either. Where serde_yaml_ng is lenient (any scalar read as a string, an empty plain scalar
//! read as an empty sequence or mapping) this is too; where it refuses, this refuses, and the
//! caller then reads the file with serde_yaml_ng for its error and location.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::subset::{Node, Plain, Scalar};

/// Why a tree did not give the type: only ever a signal to read the file again with
/// serde_yaml_ng, which says what is wrong and where.
#[derive(Debug)]
pub struct Declined(String);

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Declined(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Declined>;

/// Deserialises `T` from a tree.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: Node<'a>) -> Result<T> {
    T::deserialize(NodeDe(node))
}

struct NodeDe<'a>(Node<'a>);

impl<'a> IntoDeserializer<'a, Declined> for NodeDe<'a> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn is_null(scalar: &Scalar<'_>) -> bool {
    matches!(scalar.plain, Some(Plain::Null))
}

fn is_empty_plain(scalar: &Scalar<'_>) -> bool {
    scalar.plain.is_some() && scalar.text.is_empty()
}

fn unexpected<'n>(node: &'n Node<'_>) -> Unexpected<'n> {
    match node {
        Node::Seq(_) => Unexpected::Seq,
        Node::Map(_) => Unexpected::Map,
        Node::Scalar(s) => match s.plain {
            Some(Plain::Null) => Unexpected::Unit,
            Some(Plain::Bool(b)) => Unexpected::Bool(b),
            Some(Plain::U64(n)) => Unexpected::Unsigned(n),
            Some(Plain::I64(n)) => Unexpected::Signed(n),
            _ => Unexpected::Str(&s.text),
        },
    }
}

fn visit_text<'a, V: Visitor<'a>>(scalar: Scalar<'a>, visitor: V) -> Result<V::Value> {
    match scalar.text {
        std::borrow::Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        std::borrow::Cow::Owned(s) => visitor.visit_string(s),
    }
}

fn visit_seq<'a, V: Visitor<'a>>(items: Vec<Node<'a>>, visitor: V) -> Result<V::Value> {
    let mut seq = de::value::SeqDeserializer::new(items.into_iter().map(NodeDe));
    let value = visitor.visit_seq(&mut seq)?;
    // serde_yaml_ng refuses a sequence its visitor left unread.
    seq.end()?;
    Ok(value)
}

fn visit_map<'a, V: Visitor<'a>>(
    entries: Vec<(Scalar<'a>, Node<'a>)>,
    visitor: V,
) -> Result<V::Value> {
    let mut map = de::value::MapDeserializer::new(
        entries
            .into_iter()
            .map(|(k, v)| (NodeDe(Node::Scalar(k)), NodeDe(v))),
    );
    let value = visitor.visit_map(&mut map)?;
    map.end()?;
    Ok(value)
}

impl<'a> NodeDe<'a> {
    fn invalid<V: Visitor<'a>, T>(&self, visitor: &V) -> Result<T> {
        Err(de::Error::invalid_type(unexpected(&self.0), visitor))
    }

    /// A plain integer, for every integer and float type (serde's primitive visitors convert,
    /// as serde_yaml_ng's `parse_*` would have read the same digits).
    fn number<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match &self.0 {
            Node::Scalar(Scalar {
                plain: Some(Plain::U64(n)),
                ..
            }) => visitor.visit_u64(*n),
            Node::Scalar(Scalar {
                plain: Some(Plain::I64(n)),
                ..
            }) => visitor.visit_i64(*n),
            _ => self.invalid(&visitor),
        }
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
            self.number(visitor)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for NodeDe<'a> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Node::Seq(items) => visit_seq(items, visitor),
            Node::Map(entries) => visit_map(entries, visitor),
            Node::Scalar(scalar) => match scalar.plain {
                Some(Plain::Null) => visitor.visit_unit(),
                Some(Plain::Bool(b)) => visitor.visit_bool(b),
                Some(Plain::U64(n)) => visitor.visit_u64(n),
                Some(Plain::I64(n)) => visitor.visit_i64(n),
                Some(Plain::Str) | None => visit_text(scalar, visitor),
            },
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match &self.0 {
            Node::Scalar(Scalar {
                plain: Some(Plain::Bool(b)),
                ..
            }) => visitor.visit_bool(*b),
            _ => self.invalid(&visitor),
        }
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    /// Any scalar as its text, as serde_yaml_ng does.
    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Node::Scalar(scalar) => visit_text(scalar, visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value> {
        Err(de::Error::custom(
            "serialization and deserialization of bytes in YAML is not implemented",
        ))
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    /// A quoted or block scalar is always `Some`; a plain one is `None` when empty or null.
    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match &self.0 {
            Node::Scalar(s) if is_null(s) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match &self.0 {
            Node::Scalar(s) if is_null(s) => visitor.visit_unit(),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    /// A sequence, or an empty plain scalar as an empty one.
    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Node::Seq(items) => visit_seq(items, visitor),
            Node::Scalar(ref s) if is_empty_plain(s) => visit_seq(Vec::new(), visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    /// A mapping, or an empty plain scalar as an empty one.
    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Node::Map(entries) => visit_map(entries, visitor),
            Node::Scalar(ref s) if is_empty_plain(s) => visit_map(Vec::new(), visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    /// A scalar names a unit variant. Any other variant needs a YAML tag (`!Variant`), which
    /// is outside the subset, so a mapping or sequence is refused, as serde_yaml_ng refuses it.
    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Node::Scalar(scalar) => visitor.visit_enum(UnitVariant(scalar)),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// A unit variant named by a scalar's text.
struct UnitVariant<'a>(Scalar<'a>);

impl<'a> de::EnumAccess<'a> for UnitVariant<'a> {
    type Error = Declined;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<(S::Value, Self)> {
        let name = Scalar {
            text: self.0.text.clone(),
            plain: self.0.plain,
        };
        Ok((seed.deserialize(NodeDe(Node::Scalar(name)))?, self))
    }
}

impl<'a> de::VariantAccess<'a> for UnitVariant<'a> {
    type Error = Declined;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'a>>(self, _seed: S) -> Result<S::Value> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}
