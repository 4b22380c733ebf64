//! Deserializing with serde while keeping what serde knows about an error: which kind of problem
//! it is (an unknown field and the fields allowed there, a value of the wrong type and what was
//! expected) and the field path where it happened.
//!
//! A document reader's error type (`toml::de::Error`) keeps only serde's error *message*: serde
//! builds "unknown field `x`, expected one of `a`, `b`" through the reader's `de::Error` and the
//! reader stores the text. So the reader is wrapped in an adapter whose error type is ours
//! ([`Error`]): serde's derive code and the value visitors then build our [`Problem`]s directly.
//! Where an error has to cross back into the reader (which cannot carry it), the first problem
//! built is kept aside and restored when the reader's error comes out. The field path comes
//! from `serde_path_to_error` around the adapter.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_path_to_error::Segment;
use std::cell::RefCell;
use std::fmt;

/// What went wrong, as serde's derive code and visitors describe it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Problem {
    /// A key the table does not take, and the keys it does (none for a table without fields).
    UnknownField {
        name: String,
        allowed: &'static [&'static str],
    },
    /// A value of the wrong type or out of the values allowed: serde's descriptions of what was
    /// found (`string "relu"`, `integer `1``, `map`) and of what was expected.
    Mismatch { found: String, expected: String },
    /// A number beyond what the reader holds (a float beyond the floating-point range). The
    /// reader says so only in words; the document layer recognises it by the value's type.
    OutOfRange,
    /// Anything else, in the words of whoever raised it (the document reader's own errors, such
    /// as a number beyond its range, carry only a message).
    Other(String),
}

/// A problem and the dotted field path where it happened (`target.shapes[1].m`; empty at the
/// top of the document).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub path: String,
    pub problem: Problem,
}

/// Deserializes a `T` from `deserializer`, reporting the first problem with its field path.
///
/// `hidden` tells path segments that are the reader's own machinery rather than the document's
/// keys (`toml`'s `Spanned` is read as a map with private keys); they are left out of the path.
pub(crate) fn deserialize<'de, D, T>(
    deserializer: D,
    hidden: fn(&str) -> bool,
) -> Result<T, Failure>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    let kept = Kept::default();
    let adapter = Adapter {
        inner: deserializer,
        kept: &kept,
    };
    serde_path_to_error::deserialize(adapter).map_err(|e| {
        let mut path = String::new();
        for segment in e.path() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } if !hidden(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                _ => {}
            }
        }
        let problem = kept.0.borrow_mut().take().unwrap_or(e.into_inner().problem);
        Failure { path, problem }
    })
}

/// Our error type, seen by serde's derive code and the visitors.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    problem: Problem,
    /// Converted from the reader's error (its structure, if any, is in [`Kept`]).
    relayed: bool,
}

impl Error {
    fn new(problem: Problem) -> Self {
        Error {
            problem,
            relayed: false,
        }
    }

    /// The reader's error, as ours.
    fn relayed<E: fmt::Display>(e: E) -> Self {
        Error {
            problem: Problem::Other(e.to_string()),
            relayed: true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.problem {
            Problem::UnknownField { name, .. } => write!(f, "unknown field `{name}`"),
            Problem::Mismatch { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            Problem::OutOfRange => f.write_str("a number beyond its range"),
            Problem::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(Problem::Other(msg.to_string()))
    }

    fn invalid_type(found: de::Unexpected, expected: &dyn de::Expected) -> Self {
        Error::new(Problem::Mismatch {
            found: found.to_string(),
            expected: expected.to_string(),
        })
    }

    fn invalid_value(found: de::Unexpected, expected: &dyn de::Expected) -> Self {
        Self::invalid_type(found, expected)
    }

    fn unknown_field(field: &str, allowed: &'static [&'static str]) -> Self {
        Error::new(Problem::UnknownField {
            name: field.to_string(),
            allowed,
        })
    }
}

/// The first problem built, kept while its error passes through the reader.
#[derive(Default)]
struct Kept(RefCell<Option<Problem>>);

impl Kept {
    /// Our error, handed to the reader as its own.
    fn relay<E: de::Error>(&self, e: Error) -> E {
        if !e.relayed {
            let mut kept = self.0.borrow_mut();
            if kept.is_none() {
                *kept = Some(e.problem.clone());
            }
        }
        E::custom(e)
    }
}

/// The reader, with our error type.
struct Adapter<'k, D> {
    inner: D,
    kept: &'k Kept,
}

/// A visitor handed to the reader: it calls ours with our error type.
struct Visit<'k, V> {
    inner: V,
    kept: &'k Kept,
}

/// A seed handed to the reader.
struct Seed<'k, S> {
    inner: S,
    kept: &'k Kept,
}

/// The reader's map or sequence, with our error type.
struct Access<'k, A> {
    inner: A,
    kept: &'k Kept,
}

/// Deserializer methods that hand the reader our visitor (wrapped) and relay its errors back.
macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            let kept = self.kept;
            let visitor = Visit { inner: visitor, kept };
            self.inner.$method($($arg,)* visitor).map_err(Error::relayed)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Adapter<'_, D> {
    type Error = Error;

    forward_deserialize! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf(); deserialize_option();
        deserialize_unit(); deserialize_seq(); deserialize_map(); deserialize_identifier();
        deserialize_ignored_any();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Visitor methods that call ours, relaying our error to the reader.
macro_rules! forward_visit {
    ($($method:ident($($v:ident: $ty:ty)?);)*) => {$(
        fn $method<E: de::Error>(self, $($v: $ty)?) -> Result<V::Value, E> {
            self.inner.$method($($v)?).map_err(|e| self.kept.relay(e))
        }
    )*};
}

/// Visitor methods that hand ours a wrapped deserializer (`Adapter`) or access (`Access`).
macro_rules! forward_nested {
    ($($method:ident($arg:ident: $bound:ident) -> $err:ident via $wrap:ident;)*) => {$(
        fn $method<$arg: $bound<'de>>(self, inner: $arg) -> Result<V::Value, $arg::$err> {
            let kept = self.kept;
            self.inner
                .$method($wrap { inner, kept })
                .map_err(|e| kept.relay(e))
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(v: bool); visit_i8(v: i8); visit_i16(v: i16); visit_i32(v: i32);
        visit_i64(v: i64); visit_i128(v: i128); visit_u8(v: u8); visit_u16(v: u16);
        visit_u32(v: u32); visit_u64(v: u64); visit_u128(v: u128); visit_f32(v: f32);
        visit_f64(v: f64); visit_char(v: char); visit_str(v: &str);
        visit_borrowed_str(v: &'de str); visit_string(v: String); visit_bytes(v: &[u8]);
        visit_borrowed_bytes(v: &'de [u8]); visit_byte_buf(v: Vec<u8>); visit_none();
        visit_unit();
    }

    forward_nested! {
        visit_some(D: Deserializer) -> Error via Adapter;
        visit_newtype_struct(D: Deserializer) -> Error via Adapter;
        visit_seq(A: SeqAccess) -> Error via Access;
        visit_map(A: MapAccess) -> Error via Access;
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        let kept = self.kept;
        self.inner
            .deserialize(Adapter { inner: d, kept })
            .map_err(|e| kept.relay(e))
    }
}

/// Access methods that hand the reader our seed (wrapped) and relay its errors back.
macro_rules! forward_access {
    ($($method:ident -> $out:ty;)*) => {$(
        fn $method<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<$out, Error> {
            let kept = self.kept;
            self.inner
                .$method(Seed { inner: seed, kept })
                .map_err(Error::relayed)
        }
    )*};
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<'_, A> {
    type Error = Error;

    forward_access! {
        next_key_seed -> Option<T::Value>;
        next_value_seed -> T::Value;
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<'_, A> {
    type Error = Error;

    forward_access! {
        next_element_seed -> Option<T::Value>;
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        a: Option<u32>,
        inner: Option<Vec<Inner>>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: Option<bool>,
    }

    fn fail(text: &str) -> Failure {
        let d = toml::Deserializer::parse(text).unwrap();
        deserialize::<_, Outer>(d, |k| k.starts_with("$__")).unwrap_err()
    }

    #[test]
    fn unknown_fields_keep_the_name_the_allowed_names_and_the_path() {
        let f = fail("a = 1\n[[inner]]\nflag = true\n[[inner]]\nflg = true\n");
        assert_eq!(f.path, "inner[1].flg");
        assert_eq!(
            f.problem,
            Problem::UnknownField {
                name: "flg".into(),
                allowed: &["flag"],
            }
        );
    }

    #[test]
    fn type_errors_keep_what_was_found_and_expected() {
        let f = fail("a = \"x\"\n");
        assert_eq!(f.path, "a");
        assert_eq!(
            f.problem,
            Problem::Mismatch {
                found: "string \"x\"".into(),
                expected: "u32".into(),
            }
        );
        let f = fail("[[inner]]\nflag = 1\n");
        assert_eq!(f.path, "inner[0].flag");
        assert!(
            matches!(f.problem, Problem::Mismatch { ref expected, .. } if expected == "a boolean")
        );
    }
}
