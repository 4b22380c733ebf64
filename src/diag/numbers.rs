//! Readers of numbers as written in a TOML file, before range checks: [`Int`] (integers only)
//! and [`Number`] (integers or floats). They keep integers beyond 64 bits (`toml` hands them on
//! as 128-bit) and floats such as `nan` and `inf`, so the checks can refuse them with their value.

use serde::Deserialize;
use serde::de::{self, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// How a reader names what it expects, in messages: `a positive integer`, `a number`.
pub(crate) trait Expecting {
    const TEXT: &'static str;
}

/// A number as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Written {
    /// Every TOML integer fits; a larger one saturates at `i128::MAX`.
    Int(i128),
    Float(f64),
}

impl Written {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Written::Int(n) => n as f64,
            Written::Float(f) => f,
        }
    }
}

/// An integer as written; a float is refused with `W::TEXT` as what was expected.
pub(crate) struct Int<W>(pub i128, PhantomData<W>);

/// An integer or a float as written.
pub(crate) struct Number<W>(pub Written, PhantomData<W>);

struct Reader {
    floats: bool,
    expecting: &'static str,
}

impl Visitor<'_> for Reader {
    type Value = Written;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Written, E> {
        Ok(Written::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Written, E> {
        Ok(Written::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Written, E> {
        Ok(Written::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Written, E> {
        Ok(Written::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Written, E> {
        if self.floats {
            Ok(Written::Float(v))
        } else {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        }
    }
}

fn read<'de, D: de::Deserializer<'de>, W: Expecting>(
    d: D,
    floats: bool,
) -> Result<Written, D::Error> {
    d.deserialize_any(Reader {
        floats,
        expecting: W::TEXT,
    })
}

impl<'de, W: Expecting> Deserialize<'de> for Int<W> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match read::<D, W>(d, false)? {
            Written::Int(n) => Ok(Int(n, PhantomData)),
            Written::Float(_) => unreachable!("floats are refused"),
        }
    }
}

impl<'de, W: Expecting> Deserialize<'de> for Number<W> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Number(read::<D, W>(d, true)?, PhantomData))
    }
}
